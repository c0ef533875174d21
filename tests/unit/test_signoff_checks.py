"""The sign-off's pure checks: a comment that reads like a rejection (zh and en, both ways)
and the drawn signature's PNG (magic, size cap, dimensions, blank pad)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from monitord.console import signature
from monitord.console.doubts import doubt
from tests.support.signatures import data_url, png


@pytest.mark.parametrize(
    ("comment", "phrase"),
    [
        ("3号摄像头还是不行", "还是不行"),
        ("问题部分解决了", "部分解决"),
        ("门禁未解决", "未解决"),
        ("录像机没修好", "没修好"),
        ("画面仍然模糊", "仍然"),
        ("Camera 3 is NOT fixed", "NOT fixed"),
        ("only partially working", "partially"),
        ("the gate is still  broken", "still broken"),
        ("it doesn’t work at night", "doesn't work"),
    ],
)
def test_a_comment_that_reads_like_a_rejection_is_caught(comment: str, phrase: str) -> None:
    assert doubt(comment) == phrase


@pytest.mark.parametrize(
    "comment",
    ["", "全部修好了，谢谢", "维修及时，画面清晰", "All fixed, thank you", "works fine now",
     "resolved quickly"],
)  # fmt: skip
def test_a_plain_approval_passes(comment: str) -> None:
    assert doubt(comment) is None


def test_a_drawn_signature_is_read_with_its_size_and_ink() -> None:
    data = png()
    found = signature.parse(data_url(data))
    assert (found.width, found.height) == (600, 200) and found.png == data
    alpha = Image.open(io.BytesIO(data)).getchannel("A").tobytes()
    assert found.ink == len(alpha) - alpha.count(0)  # an independent count (Pillow)


def _refused(value: str) -> str:
    with pytest.raises(signature.SignatureError) as caught:
        signature.parse(value)
    return caught.value.reason


def test_blank_odd_broken_and_oversized_signatures_are_refused() -> None:
    assert _refused(data_url(png(strokes=0))) == "signature_blank"
    assert _refused(data_url(png(mode="RGB"))) == "signature_bad"
    assert _refused(data_url(png(width=50))) == "signature_size"
    assert _refused(data_url(png(width=2000))) == "signature_size"
    assert _refused("data:image/jpeg;base64,/9j/4AAQ") == "signature_bad"
    assert _refused(data_url(b"GIF89a" + bytes(100))) == "signature_bad"
    good = png()
    assert _refused(data_url(good[:-30])) == "signature_bad"  # truncated
    flipped = bytearray(good)
    flipped[40] ^= 0xFF  # inside a chunk: its CRC no longer matches
    assert _refused(data_url(bytes(flipped))) == "signature_bad"
    assert _refused(data_url(good + bytes(signature.MAX_BYTES))) == "signature_too_big"


def test_a_small_png_that_inflates_past_its_dimensions_is_refused() -> None:
    width, height = 200, 100
    raw = bytes(height * (width * 4 + 1) * 50)  # far more rows than the header declares

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))  # fmt: skip
    assert len(bomb) < signature.MAX_BYTES
    assert _refused(data_url(bomb)) == "signature_bad"
