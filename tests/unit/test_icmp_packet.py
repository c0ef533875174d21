"""Echo packets: checksum, encoding, and recognising replies without ever raising."""

from __future__ import annotations

import random
import struct

import pytest

from monitord.checks.icmp.packet import (
    ECHO_REPLY_V4,
    ECHO_REPLY_V6,
    ECHO_REQUEST_V4,
    ECHO_REQUEST_V6,
    MAGIC,
    PACKET_SIZE,
    EchoReply,
    checksum,
    decode_echo_reply,
    encode_echo_request,
)

TOKEN = bytes.fromhex("0123456789abcdef")


def as_reply(request: bytes, *, v6: bool = False) -> bytes:
    """What a host sends back: the request with the reply type (checksum not rechecked)."""
    return bytes([ECHO_REPLY_V6 if v6 else ECHO_REPLY_V4]) + request[1:]


def ipv4_header(payload: bytes, ihl_words: int = 5) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x40 | ihl_words, 0, 20 + len(payload), 0, 0, 64, 1, 0,
        bytes([192, 0, 2, 2]), bytes([192, 0, 2, 1]),
    )  # fmt: skip
    return header + bytes(4 * ihl_words - 20)


def test_checksum_known_values() -> None:
    # RFC 1071's worked example: the one's complement sum of these words is 0xddf2.
    assert checksum(bytes.fromhex("0001f203f4f5f6f7")) == ~0xDDF2 & 0xFFFF
    assert checksum(b"") == 0xFFFF
    assert checksum(b"\x01") == checksum(b"\x01\x00")  # odd lengths are zero-padded


def test_request_v4_is_summed_so_the_checksum_verifies_to_zero() -> None:
    packet = encode_echo_request(0x1234, 0xBEEF, TOKEN, v6=False)
    assert len(packet) == PACKET_SIZE
    assert packet[0] == ECHO_REQUEST_V4 and packet[1] == 0
    assert struct.unpack("!HH", packet[4:8]) == (0x1234, 0xBEEF)
    assert packet[8:] == MAGIC + TOKEN
    assert checksum(packet) == 0


def test_every_request_v4_verifies_to_zero() -> None:
    """The folded sum (no per-packet unpacking) is RFC 1071's for any ident, seq, token."""
    rng = random.Random(15)
    tokens = [bytes(8), b"\xff" * 8, *(rng.randbytes(8) for _ in range(2000))]
    for i, token in enumerate(tokens):
        ident, seq = (0, 0) if i == 0 else (0xFFFF, 0xFFFF) if i == 1 else (i * 7919 & 0xFFFF, i)
        assert checksum(encode_echo_request(ident, seq, token, v6=False)) == 0, (ident, seq, token)


def test_request_v6_leaves_the_checksum_to_the_kernel() -> None:
    packet = encode_echo_request(1, 2, TOKEN, v6=True)
    assert packet[0] == ECHO_REQUEST_V6
    assert packet[2:4] == b"\0\0"


def test_token_must_have_its_size() -> None:
    with pytest.raises(ValueError, match="token"):
        encode_echo_request(1, 2, b"short", v6=False)


@pytest.mark.parametrize("v6", [False, True])
def test_round_trip_without_ip_header(v6: bool) -> None:
    reply = as_reply(encode_echo_request(65535, 0, TOKEN, v6=v6), v6=v6)
    assert decode_echo_reply(reply, v6=v6, ip_header=False) == EchoReply(65535, 0, TOKEN)


@pytest.mark.parametrize("ihl_words", [5, 6, 15])
def test_round_trip_behind_an_ipv4_header_with_options(ihl_words: int) -> None:
    icmp = as_reply(encode_echo_request(7, 8, TOKEN, v6=False))
    data = ipv4_header(icmp, ihl_words) + icmp
    assert decode_echo_reply(data, v6=False, ip_header=True) == EchoReply(7, 8, TOKEN)
    assert decode_echo_reply(icmp, v6=False, ip_header=True) is None  # header missing


def test_a_request_or_the_other_family_is_not_a_reply() -> None:
    request = encode_echo_request(7, 8, TOKEN, v6=False)
    assert decode_echo_reply(request, v6=False, ip_header=False) is None
    assert decode_echo_reply(as_reply(request), v6=True, ip_header=False) is None


def test_foreign_echo_replies_are_ignored() -> None:
    # e.g. the system's ping(8) running next to us: same layout, other payload.
    foreign = struct.pack("!BBHHH", ECHO_REPLY_V4, 0, 0, 7, 8) + b"x" * 56
    assert decode_echo_reply(foreign, v6=False, ip_header=False) is None
    other_code = bytearray(as_reply(encode_echo_request(7, 8, TOKEN, v6=False)))
    other_code[1] = 3
    assert decode_echo_reply(bytes(other_code), v6=False, ip_header=False) is None


@pytest.mark.parametrize("v6", [False, True])
@pytest.mark.parametrize("ip_header", [False, True])
def test_short_and_garbage_packets_are_rejected_quietly(v6: bool, ip_header: bool) -> None:
    reply = as_reply(encode_echo_request(7, 8, TOKEN, v6=v6), v6=v6)
    if ip_header:
        reply = ipv4_header(reply) + reply
    for cut in range(len(reply)):
        assert decode_echo_reply(reply[:cut], v6=v6, ip_header=ip_header) is None
    rng = random.Random(1)
    for _ in range(5000):
        junk = rng.randbytes(rng.randrange(0, 80))
        decoded = decode_echo_reply(junk, v6=v6, ip_header=ip_header)
        assert decoded is None or len(decoded.token) == len(TOKEN)
    assert decode_echo_reply(b"", v6=v6, ip_header=ip_header) is None


def test_bad_ip_headers_are_rejected() -> None:
    icmp = as_reply(encode_echo_request(7, 8, TOKEN, v6=False))
    header = bytearray(ipv4_header(icmp))
    header[0] = 0x44  # IHL below the minimum of 5 words
    assert decode_echo_reply(bytes(header) + icmp, v6=False, ip_header=True) is None
    header[0] = 0x65  # not IPv4
    assert decode_echo_reply(bytes(header) + icmp, v6=False, ip_header=True) is None
