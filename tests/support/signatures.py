"""PNG signatures as the console's pad makes them (8-bit RGBA, ink on transparent), drawn
with Pillow (a test dependency), and the data URLs a form carries."""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageDraw


def png(width: int = 600, height: int = 200, strokes: int = 3, mode: str = "RGBA") -> bytes:
    image = Image.new(mode, (width, height), (0, 0, 0, 0) if mode == "RGBA" else (255,) * 3)
    draw = ImageDraw.Draw(image)
    for i in range(strokes):
        draw.line([(10 + 40 * i, 20), (width // 2, height - 30), (width - 20, 30 + 10 * i)],
                  fill=(16, 21, 28, 255), width=4)  # fmt: skip
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
