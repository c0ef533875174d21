"""A discovery lab in network namespaces (root): three camera segments, one of them routed.

    with DiscLab(cameras) as lab:       # cameras: list[Camera]
        out = lab.discover(known)       # `monitord discover`'s run + proposal, in the poller ns
        lab.serve(cameras)              # renumbered: the peers again, at their new addresses
        lab.outside_packets()           # nft counter: IPv4 packets the poller sent outside

The poller namespace "<p>-p" is .254 on two on-link segments (192.0.2.0/24, 198.51.100.0/24;
multicast reaches them) and reaches 203.0.113.0/24 through a router (10.99.0.2), where
multicast does not go. Each segment namespace owns every address of its /24 but the
poller's (local routes), so a probe to an empty address is refused at once instead of
waiting for ARP: a short lab, the same packets. Each segment runs one process of peers:
per camera a WS-Discovery responder and an ONVIF peer on port 8000 (real wire formats), or
a SADP responder alone. Nothing leaves the namespaces; close() deletes them.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from tests.peers.netlab import REPO, _run

SEGMENTS = ("192.0.2", "198.51.100", "203.0.113")  # the last one routed
ROUTER = ("10.99.0.1", "10.99.0.2")
ONVIF_PORT = 8000
USER, PASSWORD = "admin", "Lab-pass-7"


@dataclass(frozen=True)
class Camera:
    address: str
    mac: str
    serial: str
    name: str = "IPC"  # WS-Discovery scope name
    hardware: str = "DS-2CD2347G2"
    discoverable: bool = True  # False: ONVIF NonDiscoverable (answers only the clock, unasked)
    sadp_only: bool = False  # ONVIF off: only Hikvision SADP finds it


class DiscLab:
    def __init__(self, cameras: list[Camera]) -> None:
        self.prefix = f"dl-{secrets.token_hex(2)}"
        self.poller = f"{self.prefix}-p"
        self.segments = [f"{self.prefix}-s{i}" for i in range(len(SEGMENTS))]
        self.cameras = cameras
        self._peers: dict[str, subprocess.Popen[str]] = {}
        self._created: list[str] = []

    def __enter__(self) -> Self:
        try:
            self._build()
            self.serve(self.cameras)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _ip(self, ns: str, *args: str) -> None:
        _run(["ip", "-n", ns, *args])

    def _build(self) -> None:
        for ns in (self.poller, *self.segments):
            _run(["ip", "netns", "add", ns])
            self._created.append(ns)
            self._ip(ns, "link", "set", "lo", "up")
        for i, (net, ns) in enumerate(zip(SEGMENTS, self.segments, strict=True)):
            here, there = f"{self.prefix}p{i}", f"{self.prefix}s{i}"
            _run(["ip", "link", "add", here, "netns", self.poller, "type", "veth", "peer", there])
            _run(["ip", "link", "set", there, "netns", ns])
            self._ip(self.poller, "link", "set", here, "up")
            self._ip(ns, "link", "set", there, "up")
            whole = ipaddress.ip_network(f"{net}.0/24")
            if i < 2:  # on-link: the poller is .254, the segment owns the rest
                self._ip(self.poller, "addr", "add", f"{net}.254/24", "dev", here)
                self._ip(ns, "addr", "add", f"{net}.253/24", "dev", there)
                owned = whole.address_exclude(ipaddress.ip_network(f"{net}.254/32"))
                owned = [n for n in owned if n.num_addresses > 1]  # not .255: broadcast
            else:  # routed: the segment namespace is the router too
                self._ip(self.poller, "addr", "add", f"{ROUTER[0]}/30", "dev", here)
                self._ip(ns, "addr", "add", f"{ROUTER[1]}/30", "dev", there)
                self._ip(self.poller, "route", "add", str(whole), "via", ROUTER[1])
                owned = [whole]
            for n in owned:
                self._ip(ns, "route", "add", "local", str(n), "dev", "lo", "table", "local")
        inside = ", ".join([f"{n}.0/24" for n in SEGMENTS] + ["239.255.255.250"])
        rules = f"""
            table ip disclab {{
                counter inside {{}}
                counter outside {{}}
                chain out {{
                    type filter hook output priority 0; policy accept;
                    ip daddr {{ {inside} }} counter name inside accept
                    counter name outside
                }}
            }}
        """
        _run(["ip", "netns", "exec", self.poller, "nft", "-f", "-"], stdin=rules)

    def serve(self, cameras: list[Camera]) -> None:
        """(Re)start each segment's peers with these cameras (a renumbering restarts them)."""
        self.cameras = cameras
        for ns, proc in list(self._peers.items()):
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(10)
            del self._peers[ns]
        for net, ns in zip(SEGMENTS, self.segments, strict=True):
            mine = [dataclasses.asdict(c) for c in cameras if c.address.startswith(net + ".")]
            proc = subprocess.Popen(
                ["ip", "netns", "exec", ns, sys.executable, "-m", "tests.support.disclab",
                 "serve", json.dumps(mine)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )  # fmt: skip
            self._peers[ns] = proc
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError(f"the peers of {ns} did not start")

    def discover(self, known: list[dict[str, Any]]) -> dict[str, Any]:
        """A discovery run of site "lab" from the poller namespace, and its proposal."""
        done = subprocess.run(
            ["ip", "netns", "exec", self.poller, sys.executable, "-m", "tests.support.disclab",
             "discover", json.dumps(known)],
            check=False, capture_output=True, text=True, timeout=120, cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), "DISCLAB_PASSWORD": PASSWORD},
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"discovery failed:\n{done.stderr[-3000:]}")
        out: dict[str, Any] = json.loads(done.stdout)
        return out

    def counter(self, name: str) -> int:
        done = _run(["ip", "netns", "exec", self.poller, "nft", "-j", "list", "counter", "ip",
                     "disclab", name])  # fmt: skip
        for item in json.loads(done.stdout)["nftables"]:
            if "counter" in item:
                return int(item["counter"]["packets"])
        raise RuntimeError(f"no counter {name}")

    def close(self) -> None:
        for proc in self._peers.values():
            proc.kill()
            proc.wait(10)
        self._peers.clear()
        while self._created:
            subprocess.run(["ip", "netns", "del", self._created.pop()], check=False)


def _serve(spec: list[dict[str, Any]]) -> None:
    from contextlib import ExitStack

    from tests.peers.onvif import OnvifPeer
    from tests.peers.onvif_docs import DeviceInfo
    from tests.peers.sadp import SadpResponder
    from tests.peers.wsd import WsdResponder

    with ExitStack() as stack:
        for c in (Camera(**x) for x in spec):
            if c.sadp_only:
                stack.enter_context(SadpResponder(c.address, 37020, mac=c.mac, serial=c.serial))
                continue
            info = DeviceInfo("Hikvision", c.hardware, "V5.7.3", c.serial, "88", c.mac)
            stack.enter_context(
                OnvifPeer(
                    host=c.address, port=ONVIF_PORT, info=info, username=USER, password=PASSWORD
                )
            )
            xaddr = f"http://{c.address}:{ONVIF_PORT}/onvif/device_service"
            endpoint = f"urn:uuid:{c.mac.replace(':', '')}-0000-0000-0000-000000000000"
            stack.enter_context(
                WsdResponder(
                    c.address,
                    3702,
                    endpoint=endpoint,
                    xaddr=xaddr,
                    name=c.name,
                    hardware=c.hardware,
                    discoverable=c.discoverable,
                )
            )
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        sys.stdin.read()


def _discover(known: list[dict[str, Any]]) -> None:
    import asyncio
    import datetime as dt
    import time

    from monitord.config.discovery import DiscoverySettings
    from monitord.config.models import Device
    from monitord.discovery.propose import propose
    from monitord.discovery.run import discover
    from monitord.discovery.scope import Scope, networks

    ranges = [f"{n}.0/24" for n in SEGMENTS]
    settings = DiscoverySettings.model_validate({
        "ranges": ranges, "rate": 1000, "listen": 1.0,
        "onvif": [{"username": USER, "password": {"env": "DISCLAB_PASSWORD"}}],
    })  # fmt: skip
    started = time.monotonic()
    found = asyncio.run(
        discover(settings, Scope(networks(ranges)), lambda: dt.datetime.now(dt.UTC))
    )
    seconds = time.monotonic() - started
    devices = [Device.model_validate(d) for d in known]
    items = propose(found, "lab", devices)
    out = {
        "seconds": seconds, "per_24": seconds / len(ranges), "sent": found.sent,
        "cameras": [{"address": c.endpoint.address, "mac": c.mac, "error": c.error}
                    for c in found.cameras],
        "items": [{"change": i.change, "device": i.device, "address": i.address,
                   "record": i.record} for i in items],
    }  # fmt: skip
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    what, arg = sys.argv[1], json.loads(sys.argv[2])
    _serve(arg) if what == "serve" else _discover(arg)
