"""RTSP stream liveness against Debian's GStreamer RTSP server and scripted misbehaving peers."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from monitord.checks.rtsp.client import StreamCheck, check_stream
from tests.peers.rtsp import (
    PASSWORD,
    SDP_EMPTY,
    SDP_H264,
    USER,
    GstRtsp,
    Hangup,
    closed_port,
    gst_missing,
    response,
    scripted,
)

SDP = {"Content-Type": "application/sdp"}


def _assert_no_secret(result: StreamCheck) -> None:
    assert PASSWORD not in repr(result)
    assert quote(PASSWORD, safe="") not in repr(result)


@pytest.fixture(scope="module")
def gst() -> Iterator[dict[str, GstRtsp]]:
    if reason := gst_missing():
        pytest.skip(reason)
    with GstRtsp("open") as open_, GstRtsp("basic") as basic, GstRtsp("digest") as digest:
        yield {"open": open_, "basic": basic, "digest": digest}


async def test_open_server_describes_its_video(gst: dict[str, GstRtsp]) -> None:
    result = await check_stream(gst["open"].url("/test"))
    assert (result.ok, result.reason, result.status_code) == (True, "ok", 200)
    assert result.media == ("video/JPEG",)
    assert 0 < result.seconds < 5


async def test_every_media_section_is_listed(gst: dict[str, GstRtsp]) -> None:
    result = await check_stream(gst["open"].url("/av"))
    assert result.media == ("video/JPEG", "audio/PCMA")


async def test_unknown_path_is_an_error_with_its_status(gst: dict[str, GstRtsp]) -> None:
    result = await check_stream(gst["open"].url("/nothing-here"))
    assert (result.ok, result.reason, result.status_code) == (False, "error", 404)
    assert "DESCRIBE answered 404" in result.detail


@pytest.mark.parametrize("mode", ["basic", "digest"])
async def test_authenticated_server(gst: dict[str, GstRtsp], mode: str) -> None:
    server = gst[mode]
    basic = (
        mode == "basic"
    )  # Basic is sent only when allowed (tests/integration/test_onvif_credentials.py)
    good = await check_stream(server.url(), USER, PASSWORD, allow_basic=basic)
    assert (good.ok, good.media) == (True, ("video/JPEG",)), good
    userinfo = f"{USER}:{quote(PASSWORD, safe='')}"
    in_uri = await check_stream(server.url(userinfo=userinfo), allow_basic=basic)
    assert in_uri.ok, in_uri
    wrong = await check_stream(server.url(), USER, PASSWORD + "x", allow_basic=basic)
    assert (wrong.ok, wrong.reason, wrong.status_code) == (False, "auth_rejected", 401)
    assert "credentials rejected" in wrong.detail
    anonymous = await check_stream(server.url())
    assert (anonymous.reason, anonymous.status_code) == ("auth_rejected", 401)
    assert "credentials required" in anonymous.detail
    for result in (good, in_uri, wrong, anonymous):
        _assert_no_secret(result)


async def test_closed_port_is_refused() -> None:
    with closed_port() as port:
        result = await check_stream(f"rtsp://127.0.0.1:{port}/cam", timeout=2)
    assert (result.ok, result.reason, result.status_code) == (False, "refused", None)


async def test_silent_server_times_out_within_the_budget() -> None:
    async with scripted(lambda head, i: None) as peer:
        result = await check_stream(peer.url(), timeout=0.5)
    assert (result.ok, result.reason) == (False, "timeout")
    assert "OPTIONS" in result.detail
    assert 0.5 <= result.seconds < 1.5


async def test_server_silent_after_options_times_out_on_describe() -> None:
    def answer(head: bytes, i: int) -> bytes | None:
        return response("200 OK", head, {"Public": "OPTIONS, DESCRIBE"}) if i == 0 else None

    async with scripted(answer) as peer:
        result = await check_stream(peer.url(), timeout=0.5)
    assert result.reason == "timeout"
    assert "DESCRIBE" in result.detail


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "not an RTSP status line"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 3 + b"\r\n\r\n", "not an RTSP status"),
        (b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n", "closed mid-answer"),
        (b"", "closed without an answer"),
        (b"RTSP/1.0 200 OK\r\nContent-Length: -5\r\n\r\n", "invalid Content-Length"),
        (b"RTSP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n", "exceeds the 65536-byte limit"),
        (b"RTSP/1.0 200 OK\r\nX-Pad: " + b"a" * 40_000 + b"\r\n\r\n", "head exceeds 16384 bytes"),
        (b"RTSP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc", "body cut short"),
    ],
)
async def test_garbage_is_a_bad_response(reply: bytes, expected: str) -> None:
    async with scripted(lambda head, i: Hangup(reply)) as peer:
        result = await check_stream(peer.url(), timeout=2)
    assert (result.ok, result.reason) == (False, "bad_response"), result
    assert expected in result.detail


async def test_endless_header_is_cut_at_the_cap() -> None:
    async with scripted(lambda head, i: b"RTSP/1.0 200 OK\r\n" + b"X: y\r\n" * 200_000) as peer:
        result = await check_stream(peer.url(), timeout=3)
    assert (result.reason, result.detail) == ("bad_response", "response head exceeds 16384 bytes")


def _h264(head: bytes, i: int) -> bytes:
    if head.startswith(b"DESCRIBE"):
        return response("200 OK", head, SDP, SDP_H264)
    return response("200 OK", head, {"Public": "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"})


async def test_credentials_in_the_uri_never_go_on_the_wire_unasked() -> None:
    async with scripted(_h264) as peer:
        result = await check_stream(peer.url(userinfo=f"{USER}:{quote(PASSWORD, safe='')}"))
    assert (result.ok, result.media) == (True, ("video/H264",))
    assert [r.split(b"\r\n")[0] for r in peer.requests] == [
        f"OPTIONS rtsp://127.0.0.1:{peer.port}/cam RTSP/1.0".encode(),
        f"DESCRIBE rtsp://127.0.0.1:{peer.port}/cam RTSP/1.0".encode(),
    ]
    assert all(b"authorization" not in r.lower() for r in peer.requests)
    assert [r.count(b"\r\nCSeq: ") for r in peer.requests] == [1, 1]


async def test_sdp_without_media_is_no_media() -> None:
    def answer(head: bytes, i: int) -> bytes:
        return response("200 OK", head, SDP, SDP_EMPTY if head.startswith(b"DESCRIBE") else b"")

    async with scripted(answer) as peer:
        result = await check_stream(peer.url())
    assert (result.ok, result.reason, result.status_code, result.media) == (
        False,
        "no_media",
        200,
        (),
    )


async def test_non_sdp_description_is_a_bad_response() -> None:
    def answer(head: bytes, i: int) -> bytes:
        return response("200 OK", head, {"Content-Type": "text/html"}, b"<html></html>")

    async with scripted(answer) as peer:
        result = await check_stream(peer.url())
    assert result.reason == "bad_response"
    assert "text/html" in result.detail


async def test_forbidden_is_an_authentication_finding() -> None:
    async with scripted(lambda head, i: response("403 Forbidden", head, {})) as peer:
        result = await check_stream(peer.url(), USER, PASSWORD)
    assert (result.reason, result.status_code) == ("auth_rejected", 403)


def _fields(authorization: str) -> dict[str, str]:
    return {
        m[1].lower(): m[3] if m[3] is not None else m[2]
        for m in re.finditer(r'(\w+)=("([^"]*)"|[^,\s]*)', authorization)
    }


class _Sha256DigestPeer:
    """Checks Digest answers itself (RFC 7616 section 3.4.1), independently of the client."""

    realm, nonce, opaque = "IP Camera(C1234)", "a1b2c3d4e5f60718", "op4que"

    def __init__(self, close_after_401: bool = False) -> None:
        self.close_after_401 = close_after_401
        self.ncs: list[str] = []

    def expected(self, method: str, f: dict[str, str]) -> str:
        def h(text: str) -> str:
            return hashlib.sha256(text.encode()).hexdigest()

        ha1 = h(f"{USER}:{self.realm}:{PASSWORD}")
        ha2 = h(f"{method}:{f['uri']}")
        return h(f"{ha1}:{self.nonce}:{f['nc']}:{f['cnonce']}:{f['qop']}:{ha2}")

    def __call__(self, head: bytes, i: int) -> bytes:
        text = head.decode()
        method = text.split(" ", 1)[0]
        auth = re.search(r"\r\nAuthorization: Digest (.*)\r\n", text)
        if auth is None:
            challenges = {
                "WWW-Authenticate": 'Basic realm="cam"',
                "Www-Authenticate": f'Digest realm="{self.realm}", nonce="{self.nonce}", '
                'algorithm=MD5, qop="auth"',
                "WWW-AUTHENTICATE": f'Digest realm="{self.realm}", nonce="{self.nonce}", '
                f'algorithm=SHA-256, qop="auth,auth-int", opaque="{self.opaque}"',
            }
            if self.close_after_401:
                challenges["Connection"] = "close"
            return response("401 Unauthorized", head, challenges)
        f = _fields(auth[1])
        ok = (
            f.get("algorithm") == "SHA-256"
            and f.get("opaque") == self.opaque
            and f.get("username") == USER
            and f.get("response") == self.expected(method, f)
        )
        if not ok:
            return response("401 Unauthorized", head, {})
        self.ncs.append(f["nc"])
        return _h264(head, i)


async def test_digest_sha256_is_preferred_and_nonce_count_grows() -> None:
    peer_logic = _Sha256DigestPeer()
    async with scripted(peer_logic) as peer:
        result = await check_stream(peer.url(), USER, PASSWORD)
        wrong = await check_stream(peer.url(), USER, "nope")
    assert result.ok, result
    assert peer_logic.ncs == ["00000001", "00000002"]
    assert (wrong.reason, wrong.status_code) == ("auth_rejected", 401)


async def test_challenge_answered_on_a_new_connection_after_close() -> None:
    peer_logic = _Sha256DigestPeer(close_after_401=True)
    async with scripted(peer_logic) as peer:
        result = await check_stream(peer.url(), USER, PASSWORD)
    assert result.ok, result
    assert peer.connections == 2


async def test_unsupported_scheme_is_named() -> None:
    def answer(head: bytes, i: int) -> bytes:
        return response("401 Unauthorized", head, {"WWW-Authenticate": "Negotiate"})

    async with scripted(answer) as peer:
        result = await check_stream(peer.url(), USER, PASSWORD)
    assert result.reason == "auth_rejected"
    assert "unsupported authentication: Negotiate" in result.detail


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("rtsps://127.0.0.1:322/cam", "unsupported: scheme rtsps"),
        ("http://127.0.0.1/cam", "unsupported: scheme 'http'"),
        ("rtsp:///cam", "no host"),
        # A user who forgot the host: urlsplit reads the password as the port.
        ("rtsp://viewer:hunter22/cam", "malformed"),
    ],
)
async def test_unusable_uri_is_an_error(uri: str, expected: str) -> None:
    result = await check_stream(uri)
    assert (result.ok, result.reason) == (False, "error")
    assert expected in result.detail
    assert "hunter22" not in result.detail


async def test_many_concurrent_checks_share_nothing(gst: dict[str, GstRtsp]) -> None:
    results = await asyncio.gather(
        *(check_stream(gst["digest"].url(), USER, PASSWORD) for _ in range(20))
    )
    assert all(r.ok for r in results), [r.detail for r in results if not r.ok]
