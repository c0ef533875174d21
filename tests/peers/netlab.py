"""A throw-away network lab in two network namespaces (needs root, `ip` and `nft`).

    with NetLab(hosts=3) as lab:
        lab.client_ns                    # run the code under test here (no default route)
        lab.host_addresses               # ["192.0.2.2", ...], all answer pings
        lab.host_addresses6              # ["2001:db8::2", ...]
        lab.unassigned_address           # on-link, nobody there: echoes get no answer
        lab.drop("192.0.2.2")            # that host stops answering echo requests
        lab.undrop("192.0.2.2")
        lab.lossy("192.0.2.3", every=2)  # drop every 2nd echo request to it (deterministic)
        lab.random_loss("192.0.2.4", 4)  # drop 4 in 10 echo requests to it, at random
        lab.link("client", up=False)     # local link down: the route disappears
        lab.link("host", up=False)       # peer link down: silent loss
        lab.answer_late(0.3)             # IPv4 echo replies come 0.3 s late; None: on time
        lab.exec(["ping", "-c1", "192.0.2.2"])           # in client_ns; CompletedProcess
        lab.python("print(1)", ns=lab.client_ns)         # this interpreter, repo importable
        lab.sysctl(lab.client_ns, "net.ipv4.ping_group_range=0 2147483647")

The client namespace ("<prefix>-a", 192.0.2.1 and 2001:db8::1) and the host namespace
("<prefix>-b", every host address on one interface) are joined by a veth pair. Only
192.0.2.0/24 (TEST-NET-1) and 2001:db8::/64 (documentation) are used, and nothing can
leave the machine. close() (or leaving the with block) deletes both namespaces, which
takes the veth pair and the nft rules with them, even after a failure half-way through.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

REPO = Path(__file__).resolve().parents[2]
_TABLE = "mdt"


def available() -> str | None:
    """Why a NetLab cannot be built here, or None if it can."""
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    missing = [tool for tool in ("ip", "nft") if shutil.which(tool) is None]
    return f"missing tools: {', '.join(missing)}" if missing else None


def _run(args: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            args, input=stdin, check=True, capture_output=True, text=True, timeout=30
        )
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"{' '.join(args)} failed: {exc.stderr.strip()}") from exc


class NetLab:
    def __init__(self, hosts: int = 3, prefix: str | None = None) -> None:
        if not 1 <= hosts <= 200:
            raise ValueError("hosts must be 1..200")
        self.prefix = prefix or f"mdt-{secrets.token_hex(3)}"
        self.client_ns, self.host_ns = f"{self.prefix}-a", f"{self.prefix}-b"
        self.client_address, self.client_address6 = "192.0.2.1", "2001:db8::1"
        self.host_addresses = [f"192.0.2.{i}" for i in range(2, hosts + 2)]
        self.host_addresses6 = [f"2001:db8::{i:x}" for i in range(2, hosts + 2)]
        self.unassigned_address = "192.0.2.250"
        self._veth = f"v{secrets.token_hex(4)}"  # interface names are limited to 15 chars
        self._created: list[str] = []
        self._responder: subprocess.Popen[str] | None = None

    def __enter__(self) -> Self:
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _build(self) -> None:
        for ns in (self.client_ns, self.host_ns):
            _run(["ip", "netns", "add", ns])
            self._created.append(ns)
            self.ip(ns, "link", "set", "lo", "up")
        a, b = f"{self._veth}a", f"{self._veth}b"
        _run(["ip", "link", "add", a, "netns", self.client_ns, "type", "veth", "peer", b])
        _run(["ip", "link", "set", b, "netns", self.host_ns])
        self._ifname = {"client": (self.client_ns, a), "host": (self.host_ns, b)}
        # nodad: addresses are usable at once instead of "tentative" for a second or two.
        self.ip(self.client_ns, "addr", "add", f"{self.client_address}/24", "dev", a)
        self.ip(self.client_ns, "addr", "add", f"{self.client_address6}/64", "dev", a, "nodad")
        for v4, v6 in zip(self.host_addresses, self.host_addresses6, strict=True):
            self.ip(self.host_ns, "addr", "add", f"{v4}/24", "dev", b)
            self.ip(self.host_ns, "addr", "add", f"{v6}/64", "dev", b, "nodad")
        self.link("client", up=True)
        self.link("host", up=True)
        rules = f"""
            table inet {_TABLE} {{
                set dropped {{ type ipv4_addr; }}
                set dropped6 {{ type ipv6_addr; }}
                chain input {{
                    type filter hook input priority 0; policy accept;
                    ip daddr @dropped icmp type echo-request drop
                    ip6 daddr @dropped6 icmpv6 type echo-request drop
                }}
            }}
        """
        _run(["ip", "netns", "exec", self.host_ns, "nft", "-f", "-"], stdin=rules)

    def close(self) -> None:
        """Delete both namespaces (and with them the veth pair and the rules); idempotent."""
        self.answer_late(None)
        while self._created:
            subprocess.run(["ip", "netns", "del", self._created.pop()], check=False)

    def ip(self, ns: str, *args: str) -> None:
        _run(["ip", "-n", ns, *args])

    def exec(
        self, args: Sequence[str], ns: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside ns (default: the client namespace)."""
        return subprocess.run(
            ["ip", "netns", "exec", ns or self.client_ns, *args],
            check=check,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
        )

    def python(
        self, code: str, ns: str | None = None, timeout: float = 60, uid: int | None = None
    ) -> str:
        """Run Python code inside ns with this interpreter and the repo importable; stdout.

        uid: run as that user (and group of the same number, no supplementary groups),
        e.g. 65534 to see what an unprivileged daemon may do.
        """
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        user = (
            [] if uid is None else ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        )
        done = subprocess.run(
            ["ip", "netns", "exec", ns or self.client_ns, *user, sys.executable, "-c", code],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            env=env,
        )
        if done.returncode:
            raise RuntimeError(f"python in {ns or self.client_ns} failed:\n{done.stderr}")
        return done.stdout

    def sysctl(self, ns: str, setting: str) -> None:
        """Set a per-namespace sysctl, e.g. sysctl(lab.client_ns, "net.ipv4.ping_group_range=0 0")."""
        _run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", setting])

    def drop(self, *addresses: str) -> None:
        """Make the host namespace silently drop echo requests to these addresses."""
        self._elements("add", "dropped", addresses)

    def undrop(self, *addresses: str) -> None:
        self._elements("delete", "dropped", addresses)

    def lossy(self, address: str, every: int = 2) -> None:
        """Drop every `every`-th echo request to address (a counter, not chance)."""
        family = "ip6" if ":" in address else "ip"
        proto = "icmpv6" if family == "ip6" else "icmp"
        rule = (
            f"{family} daddr {address} {proto} type echo-request numgen inc mod {every} == 0 drop"
        )
        self._nft(f"add rule inet {_TABLE} input {rule}")

    def random_loss(self, address: str, tenths: int) -> None:
        """Drop echo requests to address at random, `tenths` in 10 (chance, not a counter)."""
        family = "ip6" if ":" in address else "ip"
        proto = "icmpv6" if family == "ip6" else "icmp"
        match = f"{family} daddr {address} {proto} type echo-request"
        self._nft(f"add rule inet {_TABLE} input {match} numgen random mod 10 < {tenths} drop")

    def clear_rules(self) -> None:
        """Forget every drop() and lossy() rule."""
        self._nft(f"flush chain inet {_TABLE} input")
        for name in ("dropped", "dropped6"):
            self._nft(f"flush set inet {_TABLE} {name}")
        self._nft(f"add rule inet {_TABLE} input ip daddr @dropped icmp type echo-request drop")
        self._nft(f"add rule inet {_TABLE} input ip6 daddr @dropped6 icmpv6 type echo-request drop")

    def answer_late(self, delay: float | None) -> None:
        """Answer IPv4 echo requests to the hosts after delay seconds (None: kernel, on time).

        There is no netem qdisc on every kernel, so the host namespace's kernel stops
        answering (icmp_echo_ignore_all) and a small raw-socket responder answers late.
        """
        if self._responder is not None:
            self._responder.kill()
            self._responder.wait()
            self._responder = None
        if self.host_ns not in self._created:
            return
        self.sysctl(self.host_ns, f"net.ipv4.icmp_echo_ignore_all={int(delay is not None)}")
        if delay is None:
            return
        self._responder = subprocess.Popen(
            ["ip", "netns", "exec", self.host_ns, sys.executable, "-c", _RESPONDER, str(delay)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._responder.stdout is not None
        if self._responder.stdout.readline().strip() != "ready":
            raise RuntimeError("the late echo responder did not start")

    def link(self, side: Literal["client", "host"], *, up: bool) -> None:
        """Take one end of the veth pair down or up."""
        ns, ifname = self._ifname[side]
        self.ip(ns, "link", "set", ifname, "up" if up else "down")

    def _elements(self, verb: str, set_name: str, addresses: Sequence[str]) -> None:
        v4 = [a for a in addresses if ":" not in a]
        v6 = [a for a in addresses if ":" in a]
        for name, group in ((set_name, v4), (f"{set_name}6", v6)):
            if group:
                self._nft(f"{verb} element inet {_TABLE} {name} {{ {', '.join(group)} }}")

    def _nft(self, command: str) -> None:
        _run(["ip", "netns", "exec", self.host_ns, "nft", command])


_RESPONDER = """
import heapq, select, socket, struct, sys, time
delay = float(sys.argv[1])
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
print("ready", flush=True)
def checksum(b):
    b += bytes(len(b) % 2)
    t = sum(struct.unpack(f"!{len(b) // 2}H", b))
    t = (t & 0xFFFF) + (t >> 16)
    return ~(t + (t >> 16)) & 0xFFFF
due = []
while True:
    wait = max(0.0, due[0][0] - time.monotonic()) if due else None
    if select.select([sock], [], [], wait)[0]:
        data, (source, _) = sock.recvfrom(65535)
        icmp = data[(data[0] & 15) * 4:]
        if icmp[:1] == bytes([8]):
            reply = bytes([0, 0, 0, 0]) + icmp[4:]
            reply = reply[:2] + struct.pack("!H", checksum(reply)) + reply[4:]
            heapq.heappush(due, (time.monotonic() + delay, source, reply))
    while due and due[0][0] <= time.monotonic():
        _, source, reply = heapq.heappop(due)
        sock.sendto(reply, (source, 0))
"""
