"""Fuzzing the RTSP client: random and mutated answers never escape as anything but a result.

The parser layer gets thousands of hypothesis examples fed through a real StreamReader; the
whole check runs against a scripted TCP peer whose answers are mutated copies of real ones.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitord.checks.rtsp import auth as rtsp_auth
from monitord.checks.rtsp import wire as rtsp_wire
from monitord.checks.rtsp.client import Reason, check_stream
from tests.peers.rtsp import SDP_H264, Hangup, response, scripted

OPTIONS = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n"
CHALLENGE = (
    b"RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n"
    b'WWW-Authenticate: Digest realm="cam", nonce="abc", qop="auth", algorithm=SHA-256, '
    b'opaque="xyz"\r\nWWW-Authenticate: Basic realm="cam"\r\n\r\n'
)
DESCRIBED = (
    b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Type: application/sdp\r\n"
    + f"Content-Length: {len(SDP_H264)}\r\n\r\n".encode()
    + SDP_H264
)
BASES = (OPTIONS, CHALLENGE, DESCRIBED)
_PIECES = (b"\r\n", b"\r\n\r\n", b":", b"=", b'"', b",", b"RTSP/1.0 ", b"\x00", b"\xff", b"-1")
_PIECES += (b"Content-Length: 99999999999", b"m=", b"a=rtpmap:", b"WWW-Authenticate: Digest ")


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        at = rng.randint(0, len(out))
        match rng.randrange(6):
            case 0 if out:
                out[min(at, len(out) - 1)] = rng.randrange(256)
            case 1:
                out[at:at] = rng.choice(_PIECES)
            case 2:
                del out[at : at + rng.randint(1, 40)]
            case 3:
                out[at:at] = out[at : at + rng.randint(1, 60)] * rng.randint(1, 4)
            case 4:
                out[at:at] = rng.randbytes(rng.randint(1, 30))
            case _:
                del out[at:]
    return bytes(out)


responses = st.one_of(
    st.binary(max_size=2000),
    st.builds(mutate, st.sampled_from(BASES), st.randoms(use_true_random=False)),
)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


async def _parse(data: bytes) -> object:
    reader = asyncio.StreamReader(limit=rtsp_wire.MAX_HEAD + 1)
    reader.feed_data(data)
    reader.feed_eof()
    try:
        first = await rtsp_wire.read_response(reader)
    except rtsp_wire.BadResponse as exc:
        assert str(exc)
        return exc
    challenges = rtsp_auth.parse_challenges(first.all("www-authenticate"))
    authorizer = rtsp_auth.choose(challenges, "user", "pass")
    if authorizer is not None:
        assert authorizer.header("DESCRIBE", "rtsp://h/x")
    rtsp_auth.describe_schemes(challenges)
    rtsp_wire.sdp_media(first.body.decode("utf-8", "replace"))
    return first


@settings(
    max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(responses)
def test_parser_never_raises_anything_else(loop: asyncio.AbstractEventLoop, data: bytes) -> None:
    loop.run_until_complete(_parse(data))


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=300))
def test_challenge_and_sdp_parsers_take_any_text(text: str) -> None:
    challenges = rtsp_auth.parse_challenges([text])
    authorizer = rtsp_auth.choose(challenges, "u", "p")
    if authorizer is not None:
        authorizer.header("OPTIONS", "rtsp://h/")
    assert all(m.count("/") >= 1 for m in rtsp_wire.sdp_media(text))


async def test_mutated_answers_end_to_end() -> None:
    rng = random.Random(20261128)
    reasons: dict[str, int] = {}
    state = {"victim": 0}

    def answer(head: bytes, i: int) -> bytes | Hangup:
        method = head.split(b" ", 1)[0]
        step = 0 if method == b"OPTIONS" else 2 if b"\r\nAuthorization:" in head else 1
        valid = BASES[step]
        if step == 2:
            valid = response("200 OK", head, {"Content-Type": "application/sdp"}, SDP_H264)
        return Hangup(mutate(valid, rng)) if step == state["victim"] else valid

    async with scripted(answer) as peer:
        for _ in range(1500):
            state["victim"] = rng.randrange(3)
            result = await check_stream(peer.url(), "user", "pass", timeout=2)
            assert result.reason in get_args(Reason)
            assert not result.detail.startswith("internal error"), result
            assert result.ok == (result.reason == "ok")
            assert result.ok <= bool(result.media)
            assert "pass" not in result.detail
            reasons[result.reason] = reasons.get(result.reason, 0) + 1
    # The mutations must really exercise both outcomes, or this test proves nothing.
    assert reasons.get("ok", 0) > 50
    assert reasons.get("bad_response", 0) > 50
