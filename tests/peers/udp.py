"""A threaded UDP responder the discovery peers share: bind, answer each datagram with
`answer(data)` (None: stay silent), stop on exit. Subclasses give the wire format."""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Self


class UdpResponder:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.probes = 0  # datagrams the subclass counted as probes
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._running = False

    def prepare(self, sock: socket.socket) -> None:
        """Socket options beyond the bind (e.g. a multicast membership)."""

    def answer(self, data: bytes) -> bytes | None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.prepare(sock)
        sock.settimeout(0.1)
        self._sock, self._running = sock, True
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(5)
        if self._sock is not None:
            self._sock.close()

    def _serve(self) -> None:
        assert self._sock is not None
        while self._running:
            try:
                data, addr = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self.answer(data)
            if reply is not None:
                self._sock.sendto(reply, addr)
