"""RTSP stream check: the odd but real behaviours of camera firmware, against scripted peers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket

import pytest

from monitord.checks.rtsp.client import check_stream
from tests.peers.rtsp import SDP_H264, Hangup, response, scripted

SDP = {"Content-Type": "application/sdp"}
USER, PASSWORD = "operator", "s3cret-Pa55"


def _described(head: bytes) -> bytes:
    return response("200 OK", head, SDP, SDP_H264)


async def test_options_needing_credentials_is_answered_once_for_both() -> None:
    def answer(head: bytes, i: int) -> bytes:
        if b"\r\nAuthorization: Basic " not in head:
            return response("401 Unauthorized", head, {"WWW-Authenticate": 'Basic realm="cam"'})
        return _described(head) if head.startswith(b"DESCRIBE") else response("200 OK", head, {})

    async with scripted(answer) as peer:
        result = await check_stream(peer.url(), USER, PASSWORD, allow_basic=True)
    assert result.ok, result
    methods = [r.split(b" ", 1)[0] for r in peer.requests]
    assert methods == [b"OPTIONS", b"OPTIONS", b"DESCRIBE"]  # no second challenge for DESCRIBE


async def test_connection_close_after_options_reconnects_for_describe() -> None:
    def answer(head: bytes, i: int) -> bytes:
        if head.startswith(b"OPTIONS"):
            return response("200 OK", head, {"Connection": "close"})
        return _described(head)

    async with scripted(answer) as peer:
        result = await check_stream(peer.url())
    assert result.ok, result
    assert peer.connections == 2


async def test_options_not_implemented_still_describes() -> None:
    def answer(head: bytes, i: int) -> bytes:
        if head.startswith(b"OPTIONS"):
            return response("501 Not Implemented", head, {})
        return _described(head)

    async with scripted(answer) as peer:
        result = await check_stream(peer.url())
    assert (result.ok, result.media) == (True, ("video/H264",))


async def test_rtsp2_bare_newlines_and_odd_header_case_are_read() -> None:
    sdp = SDP_H264.replace(b"\r\n", b"\n")

    def answer(head: bytes, i: int) -> bytes:
        if head.startswith(b"OPTIONS"):
            return b"RTSP/2.0 200 OK\r\ncseq: 1\r\n\r\n"
        return (
            b"RTSP/1.0 200 OK\r\nCSEQ: 2\r\ncontent-TYPE: application/sdp; charset=utf-8\r\n"
            b"junk line without colon\r\nCONTENT-LENGTH:  " + str(len(sdp)).encode() + b"\r\n\r\n"
        ) + sdp

    async with scripted(answer) as peer:
        result = await check_stream(peer.url())
    assert (result.ok, result.media) == (True, ("video/H264",)), result


async def test_redirect_is_reported_not_followed() -> None:
    def answer(head: bytes, i: int) -> bytes:
        if head.startswith(b"OPTIONS"):
            return response("200 OK", head, {})
        location = f"rtsp://{USER}:{PASSWORD}@192.0.2.1/other"
        return response("302 Moved Temporarily", head, {"Location": location})

    async with scripted(answer) as peer:
        result = await check_stream(peer.url(), USER, PASSWORD)
    assert (result.reason, result.status_code) == ("error", 302)
    assert "302 Moved Temporarily" in result.detail
    assert PASSWORD not in result.detail


async def test_credentials_echoed_by_the_server_are_redacted() -> None:
    def answer(head: bytes, i: int) -> bytes | Hangup:
        if head.startswith(b"OPTIONS"):
            return response("200 OK", head, {})
        auth = next((ln for ln in head.split(b"\r\n") if ln.startswith(b"Authorization:")), None)
        if auth is None:
            return response("401 Unauthorized", head, {"WWW-Authenticate": 'Basic realm="x"'})
        return Hangup(b"RTSP/1.0 400 Bad " + auth + b"\r\n\r\n")

    async with scripted(answer) as peer:
        result = await check_stream(peer.url(), USER, PASSWORD, allow_basic=True)
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert result.reason == "error"
    assert token not in result.detail and PASSWORD not in result.detail
    assert "***" in result.detail, result.detail


async def test_a_server_dripping_bytes_cannot_stretch_the_budget() -> None:
    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        with contextlib.suppress(OSError):
            for _ in range(1000):
                writer.write(b"X")
                await writer.drain()
                await asyncio.sleep(0.05)

    server = await asyncio.start_server(drip, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        result = await check_stream(f"rtsp://127.0.0.1:{port}/cam", timeout=0.5)
    finally:
        server.close()
    assert result.reason == "timeout"
    assert result.seconds < 1.5


async def test_ipv6_literal_address() -> None:
    def answer(head: bytes) -> bytes:
        assert head.split(b" ")[1].startswith(b"rtsp://[::1]:")
        return _described(head) if head.startswith(b"DESCRIBE") else response("200 OK", head, {})

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, OSError):
            while True:
                writer.write(answer(await reader.readuntil(b"\r\n\r\n")))
        writer.close()

    try:
        server = await asyncio.start_server(talk, "::1", 0, family=socket.AF_INET6)
    except OSError as exc:
        pytest.skip(f"cannot listen on ::1: {exc}")
    try:
        port = server.sockets[0].getsockname()[1]
        result = await check_stream(f"rtsp://[::1]:{port}/cam")
    finally:
        server.close()
    assert (result.ok, result.media) == (True, ("video/H264",)), result


@pytest.mark.parametrize("offset", range(40, 64, 3))
async def test_an_echoed_secret_cut_by_the_excerpt_is_still_redacted(offset: int) -> None:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode())

    def answer(head: bytes, i: int) -> bytes | Hangup:
        if head.startswith(b"OPTIONS"):
            return response("200 OK", head, {})
        if b"Authorization" not in head:
            return response("401 Unauthorized", head, {"WWW-Authenticate": 'Basic realm="x"'})
        return Hangup(b"X" * offset + token + b" " + PASSWORD.encode() + b"\r\n\r\n")

    async with scripted(answer) as peer:
        result = await check_stream(peer.url(), USER, PASSWORD, allow_basic=True)
    assert result.reason == "bad_response"
    leaked = [k for k in range(6, len(token)) if token[:k].decode() in result.detail]
    assert not leaked, result.detail


async def test_a_reported_uri_with_spaces_keeps_the_request_line_whole() -> None:
    def answer(head: bytes, i: int) -> bytes:
        return _described(head) if head.startswith(b"DESCRIBE") else response("200 OK", head, {})

    async with scripted(answer) as peer:
        result = await check_stream(peer.url("/Streaming/Channels 101?profile=main sub&x=%41"))
    assert result.ok, result
    line = peer.requests[0].split(b"\r\n")[0].decode()
    assert line == (
        f"OPTIONS rtsp://127.0.0.1:{peer.port}/Streaming/Channels%20101"
        "?profile=main%20sub&x=%41 RTSP/1.0"
    )


async def test_a_silent_hang_up_after_options_is_retried_once_on_a_new_connection() -> None:
    def answer(head: bytes, i: int) -> bytes | Hangup:
        if head.startswith(b"OPTIONS"):
            return Hangup(response("200 OK", head, {}))  # no "Connection: close"
        return _described(head)

    async with scripted(answer) as peer:
        result = await check_stream(peer.url())
    assert result.ok, result
    assert peer.connections == 2


async def test_a_server_hanging_up_on_every_request_is_not_retried_forever() -> None:
    def answer(head: bytes, i: int) -> bytes | Hangup:
        return Hangup(response("200 OK", head, {})) if head.startswith(b"OPTIONS") else b""

    async with scripted(answer) as peer:
        result = await check_stream(peer.url())
    assert (result.reason, result.detail) == ("bad_response", "connection closed without an answer")
    assert peer.connections == 2
