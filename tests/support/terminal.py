"""A command run with its stderr on a pseudo-terminal, as a person at a shell runs it (progress
displays draw only there)."""

from __future__ import annotations

import os
import pty
import subprocess
from collections.abc import Mapping


def on_terminal(argv: list[str], env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, text=True, env=env)
    os.close(slave)
    drawn = b""
    for _ in range(10_000):  # bounded: until the child closes the terminal
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    out = proc.communicate(timeout=60)[0]
    os.close(master)
    return proc.returncode, out, drawn.decode(errors="replace")
