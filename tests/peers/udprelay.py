"""A counting UDP relay between a client and one real agent: it listens on several loopback
addresses (one per simulated switch), forwards each datagram to the agent unchanged and the
agent's reply back, and records each request's kernel arrival time per address (what "the
switch" received, free of this relay's own scheduling).

Runs as its own process (`python -m tests.peers.udprelay OUT PORT UPSTREAM ADDR...`), so
the client's event loop and the relay never share a GIL; `UdpRelay` starts and reads it.
"""

from __future__ import annotations

import os
import selectors
import socket
import struct
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from types import TracebackType
from typing import Self

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux
REPO = Path(__file__).resolve().parents[2]


def serve(out: Path, port: int, upstream: int, addresses: list[str]) -> None:
    sel = selectors.DefaultSelector()
    fronts: dict[socket.socket, str] = {}
    backs: dict[tuple[str, tuple[str, int]], socket.socket] = {}
    back_of: dict[socket.socket, tuple[socket.socket, tuple[str, int]]] = {}
    for address in addresses:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.bind((address, port))
        fronts[s] = address
        sel.register(s, selectors.EVENT_READ)
    log = out.open("a", encoding="utf-8")
    (out.parent / (out.name + ".ready")).write_text("1")
    for _turn in range(10_000_000):  # bounded; the test stops the process long before
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            assert isinstance(s, socket.socket)
            if s in fronts:
                data, anc, _flags, client = s.recvmsg(65535, 64)
                stamp = time.time()
                for level, kind, raw in anc:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        sec, nsec = struct.unpack("qq", raw[:16])
                        stamp = sec + nsec / 1e9
                log.write(f"{fronts[s]} {stamp:.6f}\n")
                log.flush()
                back = backs.get((fronts[s], client))
                if back is None:
                    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    back.bind(("127.0.0.1", 0))
                    backs[(fronts[s], client)] = back
                    back_of[back] = (s, client)
                    sel.register(back, selectors.EVENT_READ)
                back.sendto(data, ("127.0.0.1", upstream))
            else:
                front, client = back_of[s]
                front.sendto(s.recv(65535), client)


class UdpRelay:
    def __init__(self, work: Path, port: int, upstream: int, addresses: list[str]) -> None:
        self.out = work / "relay.log"
        self.port, self.upstream, self.addresses = port, upstream, addresses

    def __enter__(self) -> Self:
        args = [sys.executable, "-m", "tests.peers.udprelay", str(self.out), str(self.port),
                str(self.upstream), *self.addresses]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(args, env=env)
        ready = self.out.parent / (self.out.name + ".ready")
        for _ in range(200):
            if ready.exists():
                return self
            time.sleep(0.02)
        self.proc.kill()
        raise RuntimeError("the relay did not start")

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=5)

    def arrivals(self) -> dict[str, list[float]]:
        out: defaultdict[str, list[float]] = defaultdict(list)
        if self.out.exists():
            for line in self.out.read_text(encoding="utf-8").splitlines():
                address, stamp = line.split()
                out[address].append(float(stamp))
        return {a: sorted(v) for a, v in out.items()}


def max_per_second(stamps: list[float]) -> int:
    """The most requests inside any half-open window of one second."""
    best, start = 0, 0
    for end, t in enumerate(stamps):
        while stamps[start] <= t - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
