"""PDF (and PNG) from a report's HTML by headless Chromium, when it is installed.

Layers, so that one missed escape in a report is not script, file reads and network:
the page is a local file whose policy (CSP) forbids loading anything, frames, file:// and
scripts included (--blink-settings=scriptEnabled=false would be a second layer for scripts,
but headless Chromium then writes no output); every request goes to a dead proxy,
loopback too (Chromium bypasses the proxy for loopback unless told `<-loopback>`); and
Chromium's own background traffic (updates, sync, metrics) is off. The sandbox stays on
unless we run as root (it needs user namespaces root in a container may not get). Every
run gets a fresh profile directory, so runs neither share state nor leave it behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = (
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--hide-scrollbars",
)
# Port 9 (discard) on loopback: nothing listens, so every request fails at once.
NO_NETWORK = ("--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>")


def flags() -> tuple[str, ...]:
    """Every flag but the output and profile ones."""
    sandbox = ("--no-sandbox",) if os.geteuid() == 0 else ()
    return (*_FLAGS, *NO_NETWORK, *sandbox)


class RendererMissing(RuntimeError):
    """No Chromium here; the message says what to install."""


class RenderFailed(RuntimeError):
    pass


def find() -> str | None:
    """The browser to use: $MONITORD_CHROMIUM, else the first of the usual names on PATH."""
    explicit = os.environ.get("MONITORD_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return next((p for p in map(shutil.which, _NAMES) if p), None)


def render(html: str, out: Path, kind: str = "pdf", window: str = "1200,1800") -> None:
    """Write `html` as a PDF (A4, print CSS) or a PNG screenshot of `window` pixels."""
    browser = find()
    if browser is None:
        raise RendererMissing(
            "PDF needs headless Chromium, which is not installed "
            "(Debian: apt-get install chromium; or set MONITORD_CHROMIUM); "
            "use --format html and print it, or --format md"
        )
    with tempfile.TemporaryDirectory(prefix="monitord-report-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        target = out.resolve()
        action = (
            [f"--print-to-pdf={target}", "--no-pdf-header-footer"]
            if kind == "pdf"
            else [f"--screenshot={target}", f"--window-size={window}"]
        )
        argv = [browser, *flags(), f"--user-data-dir={Path(tmp) / 'profile'}", *action]
        argv.append(page.as_uri())
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RenderFailed(f"{browser}: {exc}") from None
        if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise RenderFailed(f"{browser} exited {done.returncode} without writing {out}: {tail}")
