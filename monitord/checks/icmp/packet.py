"""ICMP echo packets: encoding requests and recognising our own replies (pure, no I/O)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

ECHO_REQUEST_V4: Final = 8
ECHO_REPLY_V4: Final = 0
ECHO_REQUEST_V6: Final = 128
ECHO_REPLY_V6: Final = 129

# The marker lets decode() reject foreign echo traffic cheaply and makes our packets
# recognisable in a capture; the token after it is what actually matches a reply.
MAGIC: Final = b"monitord"
TOKEN_SIZE: Final = 8
HEADER_SIZE: Final = 8
PACKET_SIZE: Final = HEADER_SIZE + len(MAGIC) + TOKEN_SIZE

_HEADER = struct.Struct("!BBHHH")
_IDENT_SEQ = struct.Struct("!HH")


@dataclass(frozen=True, slots=True)
class EchoReply:
    ident: int
    seq: int
    token: bytes


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


# The ones' complement sum of 16-bit words is the number they spell modulo 0xFFFF (2**16 is
# 1 there), so a request's sum is its fixed part plus ident, seq and the token read as one
# integer: no per-packet unpacking (this runs for every echo).
_FIXED_V4: Final = (ECHO_REQUEST_V4 << 8) + int.from_bytes(MAGIC, "big")


def encode_echo_request(ident: int, seq: int, token: bytes, *, v6: bool) -> bytes:
    """An echo request carrying MAGIC + token.

    The ICMPv6 checksum covers a pseudo header that only the kernel knows (it
    picks the source address), so for v6 it is left zero for the kernel to fill in.
    """
    if len(token) != TOKEN_SIZE:
        raise ValueError(f"token must be {TOKEN_SIZE} bytes")
    if v6:
        return _HEADER.pack(ECHO_REQUEST_V6, 0, 0, ident, seq) + MAGIC + token
    folded = (_FIXED_V4 + ident + seq + int.from_bytes(token, "big")) % 0xFFFF
    # Not all zero (the type is 8), so a multiple of 0xFFFF sums to 0xFFFF, never 0.
    summed = ~(folded or 0xFFFF) & 0xFFFF
    return _HEADER.pack(ECHO_REQUEST_V4, 0, summed, ident, seq) + MAGIC + token


def decode_echo_reply(data: bytes, *, v6: bool, ip_header: bool) -> EchoReply | None:
    """Our echo reply inside data, or None for anything else (never raises).

    ip_header: raw IPv4 sockets deliver the IP header in front of the ICMP message;
    raw IPv6 and datagram ICMP sockets do not.
    """
    start = 0
    if ip_header:
        if len(data) < 20 or data[0] >> 4 != 4:
            return None
        start = (data[0] & 0x0F) * 4
        if start < 20:
            return None
    if len(data) < start + PACKET_SIZE:
        return None
    if data[start] != (ECHO_REPLY_V6 if v6 else ECHO_REPLY_V4) or data[start + 1] != 0:
        return None
    magic_at = start + HEADER_SIZE
    if data[magic_at : magic_at + len(MAGIC)] != MAGIC:
        return None
    ident, seq = _IDENT_SEQ.unpack_from(data, start + 4)
    token_at = magic_at + len(MAGIC)
    return EchoReply(ident, seq, bytes(data[token_at : token_at + TOKEN_SIZE]))
