"""Headless Chromium renders a report as if the page were hostile (issue 13, item 9): no
request leaves (loopback included) whatever the page says, and a missed escape in a report
runs no script and shows no local file. Each layer is tested alone, with a control run
without it that shows the test can fail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from monitord.reports import chromium
from monitord.reports import html as report_html
from monitord.reports.document import Document, Paragraph, Section

pytestmark = pytest.mark.skipif(
    chromium.find() is None, reason="headless Chromium is not installed (Debian: chromium)"
)
RED = "#ff0000"


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server; the list holds the path of every request it got."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def red_pixels(png: Path) -> int:
    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=10_000_000) or []
    return sum(n for n, rgb in colours if rgb == (255, 0, 0))


def page(body: str) -> str:
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{body}</body></html>'


def test_no_request_leaves_not_even_to_loopback(
    listener: tuple[str, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where, seen = listener
    port = where.rpartition(":")[2]
    hostile = page(
        f'<img src="http://{where}/img"><link rel="stylesheet" href="http://{where}/css">'
        f'<iframe src="http://localhost:{port}/frame"></iframe>'
        f'<video src="http://{where}/video" autoplay></video>'
    )
    chromium.render(hostile, tmp_path / "out.png", "png", "400,300")
    assert seen == []
    monkeypatch.setattr(chromium, "NO_NETWORK", ())  # the control: without the dead proxy
    chromium.render(hostile, tmp_path / "control.png", "png", "400,300")
    assert {"/img", "/css", "/frame"} & set(seen)


@pytest.mark.parametrize("attack", ["file", "script"])
def test_a_missed_escape_shows_no_local_file_and_runs_no_script(
    tmp_path: Path, attack: str
) -> None:
    secret = tmp_path / "secret.html"
    secret.write_text(f'<body style="background:{RED}">secret</body>')
    payload = (
        f'<iframe src="{secret.as_uri()}" style="width:900px;height:600px;border:0"></iframe>'
        f'<object data="{secret.as_uri()}" style="width:900px;height:600px"></object>'
        if attack == "file"
        else f"<script>document.body.style.background = '{RED}'</script>"
    )
    doc = Document("Report", "en", (), (Section("s", (Paragraph("MARKER"),)),))
    rendered = report_html.render(doc)
    assert "Content-Security-Policy" in rendered
    hostile = rendered.replace("MARKER", payload)  # as if the text had not been escaped
    chromium.render(hostile, tmp_path / "out.png", "png", "1000,1400")
    assert red_pixels(tmp_path / "out.png") == 0
    without_policy = hostile.replace("Content-Security-Policy", "X-Removed")
    chromium.render(without_policy, tmp_path / "control.png", "png", "1000,1400")
    assert red_pixels(tmp_path / "control.png") > 10_000


def test_the_sandbox_is_dropped_only_for_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chromium.os, "geteuid", lambda: 1000)
    assert "--no-sandbox" not in chromium.flags()
    monkeypatch.setattr(chromium.os, "geteuid", lambda: 0)
    assert "--no-sandbox" in chromium.flags()
    assert "--proxy-bypass-list=<-loopback>" in chromium.flags()
