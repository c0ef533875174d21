"""A drawn signature as the sign-off form sends it: a PNG data URL from the canvas pad
(static/signature.js), checked before it goes into the ticket's record.

Checked with the standard library (zlib, struct), not Pillow: Pillow is only a test
dependency, and all this needs is the PNG header, its chunk CRCs and the alpha channel.
Refused: anything but `data:image/png;base64,`, more than MAX_BYTES, a broken or truncated
PNG, an odd format (the pad makes 8-bit RGBA, non-interlaced), dimensions outside
MIN_SIZE..MAX_SIZE, and a blank pad (fewer than MIN_INK pixels with any ink). Decompression
is bounded by the declared dimensions, so a small file cannot inflate without limit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import zlib
from dataclasses import dataclass
from typing import Final

PREFIX: Final = "data:image/png;base64,"
MAX_BYTES: Final = 64 * 1024  # a stroke signature on a 600x200 pad is 5-20 kB
MAX_SIZE: Final = (1200, 600)
MIN_SIZE: Final = (100, 40)
MIN_INK: Final = 30  # pixels with any alpha: less is a stray tap, not a signature
_MAGIC: Final = b"\x89PNG\r\n\x1a\n"


class SignatureError(ValueError):
    """Why a signature is refused: `reason` is a console word key (present/i18n.py)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Signature:
    png: bytes
    width: int
    height: int
    ink: int  # pixels with ink

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.png).hexdigest()

    def data_url(self) -> str:
        return PREFIX + base64.b64encode(self.png).decode("ascii")


def parse(data_url: str) -> Signature:
    """The signature of a data URL, or SignatureError."""
    if not data_url.startswith(PREFIX):
        raise SignatureError("signature_bad")
    encoded = data_url[len(PREFIX) :]
    if len(encoded) > (MAX_BYTES * 4) // 3 + 4:
        raise SignatureError("signature_too_big")
    try:
        png = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("signature_bad") from None
    return read(png)


def read(png: bytes) -> Signature:
    if len(png) > MAX_BYTES:
        raise SignatureError("signature_too_big")
    if not png.startswith(_MAGIC):
        raise SignatureError("signature_bad")
    header, idat = _chunks(png)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if (depth, colour, interlace) != (8, 6, 0):
        raise SignatureError("signature_bad")
    if not (MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
        raise SignatureError("signature_size")
    stride = width * 4
    expected = height * (stride + 1)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(idat, expected + 1)
    except zlib.error:
        raise SignatureError("signature_bad") from None
    if len(raw) != expected:
        raise SignatureError("signature_bad")
    ink = _ink(raw, stride, height)
    if ink < MIN_INK:
        raise SignatureError("signature_blank")
    return Signature(png, width, height, ink)


def _chunks(png: bytes) -> tuple[bytes, bytes]:
    """IHDR's body and the IDATs joined; every chunk's CRC checked."""
    at, header, idat = len(_MAGIC), b"", bytearray()
    while at + 12 <= len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, body = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        crc = png[at + 8 + length : at + 12 + length]
        if len(body) != length or len(crc) != 4:
            raise SignatureError("signature_bad")
        if zlib.crc32(kind + body) != struct.unpack(">I", crc)[0]:
            raise SignatureError("signature_bad")
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            if len(header) != 13 or not idat:
                break
            return header, bytes(idat)
        at += 12 + length
    raise SignatureError("signature_bad")


def _ink(raw: bytes, stride: int, height: int) -> int:
    """Pixels with any alpha. PNG filters predict each byte from the same channel of the
    neighbours, so the alpha channel is unfiltered on its own (a quarter of the work)."""
    previous = [0] * (stride // 4)
    count = 0
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        row = raw[start + 4 : start + 1 + stride : 4]  # the alpha bytes of this row
        if kind > 4:
            raise SignatureError("signature_bad")
        alpha = [0] * len(row)
        left = up_left = 0
        for x, value in enumerate(row):
            up = previous[x]
            if kind == 0:
                a = value
            elif kind == 1:
                a = (value + left) & 0xFF
            elif kind == 2:
                a = (value + up) & 0xFF
            elif kind == 3:
                a = (value + ((left + up) >> 1)) & 0xFF
            else:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                guess = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
                a = (value + guess) & 0xFF
            alpha[x] = a
            left, up_left = a, up
        count += len(alpha) - alpha.count(0)
        previous = alpha
    return count
