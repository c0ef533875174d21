"""systemd's side of sd_notify: a unix datagram socket that collects what the daemon says."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def systemd_manager(path: str) -> Iterator[Callable[[], list[str]]]:
    """Listen on `path` (set NOTIFY_SOCKET to it); yields `heard()`: the messages since the
    last call, without waiting."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as manager:
        manager.bind(path)
        manager.setblocking(False)

        def heard() -> list[str]:
            out = []
            while True:
                try:
                    out.append(manager.recv(64).decode())
                except BlockingIOError:
                    return out

        yield heard
