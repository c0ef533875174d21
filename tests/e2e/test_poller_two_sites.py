"""Two sites on the same 192.168.1.0/24, each behind its own MASQUERADE gateway, one centre.

    centre ns 198.51.100.1 ── wan ns (router) ─┬─ 203.0.113.2 gw north ── br 192.168.1.1
                                               │     ├─ poller p-north 192.168.1.2
                                               │     └─ devices 192.168.1.10, .11
                                               └─ 203.0.113.6 gw south ── br 192.168.1.1
                                                     ├─ poller p-south 192.168.1.2
                                                     └─ devices 192.168.1.10, .11 (.11 mute)

The centre has no route into 192.168.1.0/24 and the router knows none either: only the
pollers' own outbound HTTPS, masqueraded by nftables at each gateway, reaches the centre.
The same address answers at north and not at south, so a result filed under the wrong site
shows as the wrong state. nftables counters at each site count every packet to or from the
centre's address: all belong to connections the poller opened, to the centre's one port.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monitord.store import Store
from tests.peers import netlab
from tests.support.daemon import DaemonProcess, cli_json, free_port
from tests.support.pollerproc import PollerProcess, centre_file, monitord
from tests.support.ticketlab import config_data

_why = netlab.available()
pytestmark = [pytest.mark.root, pytest.mark.skipif(_why is not None, reason=_why or "")]
CENTRE_IP, ROUTER_IP = "198.51.100.1", "198.51.100.2"  # TEST-NET-2/3, only inside the lab
POLLER_IP, CAM1, CAM2 = "192.168.1.2", "192.168.1.10", "192.168.1.11"
ICMP = {"interval": 0.5, "retry_interval": 0.2, "max_attempts": 2, "count": 1, "timeout": 0.3}
# site -> (its gateway's WAN address, the router's end of that link)
WAN = {"north": ("203.0.113.2", "203.0.113.1"), "south": ("203.0.113.6", "203.0.113.5")}


def run(
    *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, input=stdin, check=check, capture_output=True, text=True, timeout=30
    )


@dataclass
class Site:
    gateway: str  # namespace: the site's router, MASQUERADE to the WAN
    lan: str  # namespace: the poller's box on the LAN
    devices: str  # namespace: the cameras


class Lab:
    """Every namespace of the picture above; close() deletes them all (and their links)."""

    def __init__(self) -> None:
        self.prefix = f"mdt2-{secrets.token_hex(3)}"
        self._tag = secrets.token_hex(2)
        self._made: list[str] = []
        self._links = 0
        try:
            self._build()
        except BaseException:
            self.close()  # a half-built lab leaves no namespace behind
            raise

    def _build(self) -> None:
        self.centre, self.router = self._ns("c"), self._ns("w")
        self._veth(self.centre, f"{CENTRE_IP}/30", self.router, f"{ROUTER_IP}/30")
        # Only the gateways' WAN side is routed; 192.168.1.0/24 is nowhere outside the sites.
        run("ip", "-n", self.centre, "route", "add", "203.0.113.0/24", "via", ROUTER_IP)
        self._forward(self.router)
        # What the centre sees: the gateways' WAN addresses, never a site LAN's.
        nft(self.centre, f"""
            table inet watch {{
                counter from_lan {{ }}
                counter from_north {{ }}
                counter from_south {{ }}
                chain input {{
                    type filter hook input priority 0; policy accept;
                    ip saddr 192.168.1.0/24 counter name from_lan
                    ip saddr {WAN["north"][0]} counter name from_north
                    ip saddr {WAN["south"][0]} counter name from_south
                }}
            }}
        """)  # fmt: skip
        self.sites = {name: self._site(name) for name in WAN}

    def _ns(self, suffix: str) -> str:
        name = f"{self.prefix}-{suffix}"
        run("ip", "netns", "add", name)
        self._made.append(name)
        run("ip", "-n", name, "link", "set", "lo", "up")
        return name

    def _veth(self, a: str, a_addr: str | None, b: str, b_addr: str | None) -> tuple[str, str]:
        self._links += 1
        x, y = f"t{self._tag}{self._links}a", f"t{self._tag}{self._links}b"
        run("ip", "link", "add", x, "netns", a, "type", "veth", "peer", y, "netns", b)
        for ns, ifname, addr in ((a, x, a_addr), (b, y, b_addr)):
            if addr is not None:
                run("ip", "-n", ns, "addr", "add", addr, "dev", ifname)
            run("ip", "-n", ns, "link", "set", ifname, "up")
        return x, y

    @staticmethod
    def _forward(ns: str) -> None:
        run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")

    def _site(self, name: str) -> Site:
        site = Site(self._ns(f"{name[0]}g"), self._ns(f"{name[0]}l"), self._ns(f"{name[0]}d"))
        gw_wan, router_end = WAN[name]
        wan_if, _ = self._veth(site.gateway, f"{gw_wan}/30", self.router, f"{router_end}/30")
        run("ip", "-n", site.gateway, "route", "add", "default", "via", router_end)
        self._forward(site.gateway)
        run("ip", "-n", site.gateway, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", site.gateway, "addr", "add", "192.168.1.1/24", "dev", "br0")
        run("ip", "-n", site.gateway, "link", "set", "br0", "up")
        for ns, addresses in ((site.lan, [POLLER_IP]), (site.devices, [CAM1, CAM2])):
            _, port = self._veth(ns, None, site.gateway, None)
            run("ip", "-n", site.gateway, "link", "set", port, "master", "br0")
            inner = self._inner(ns)
            for address in addresses:
                run("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", inner)
            run("ip", "-n", ns, "route", "add", "default", "via", "192.168.1.1")
        nft(site.gateway, f"""
            table ip nat {{
                chain postrouting {{
                    type nat hook postrouting priority srcnat; policy accept;
                    oifname "{wan_if}" masquerade
                }}
            }}
            table inet watch {{
                counter new_in {{ }}
                counter original_in {{ }}
                chain input {{
                    type filter hook input priority 0; policy accept;
                    iifname "{wan_if}" ct state new counter name new_in
                }}
                chain forward {{
                    type filter hook forward priority 0; policy accept;
                    iifname "{wan_if}" ct state new counter name new_in
                    iifname "{wan_if}" ct direction original counter name original_in
                }}
            }}
        """)  # fmt: skip
        # What the poller's box sees of the centre: each packet by kind, in one counter each.
        nft(site.lan, f"""
            table inet watch {{
                counter syn_out {{ }}
                counter other_out {{ }}
                counter reply_in {{ }}
                counter syn_in {{ }}
                counter original_in {{ }}
                counter other_in {{ }}
                set port {{ type inet_service; }}
                chain output {{
                    type filter hook output priority 0; policy accept;
                    ip daddr {CENTRE_IP} tcp dport @port tcp flags & (syn | ack) == syn counter name syn_out
                    ip daddr {CENTRE_IP} meta l4proto != tcp counter name other_out
                    ip daddr {CENTRE_IP} tcp dport != @port counter name other_out
                }}
                chain input {{
                    type filter hook input priority 0; policy accept;
                    ip saddr {CENTRE_IP} ct direction reply counter name reply_in
                    ip saddr {CENTRE_IP} ct direction original counter name original_in
                    ip saddr {CENTRE_IP} tcp flags & (syn | ack) == syn counter name syn_in
                    ip saddr {CENTRE_IP} meta l4proto != tcp counter name other_in
                    ip saddr {CENTRE_IP} tcp sport != @port counter name other_in
                }}
            }}
        """)  # fmt: skip
        # The south LAN's .11 is there but mute: at north the same address answers.
        if name == "south":
            nft(site.devices, f"""
                table inet mute {{
                    chain input {{
                        type filter hook input priority 0; policy accept;
                        ip daddr {CAM2} icmp type echo-request drop
                    }}
                }}
            """)  # fmt: skip
        return site

    def _inner(self, ns: str) -> str:
        links = json.loads(run("ip", "-j", "-n", ns, "link", "show").stdout)
        [name] = [link["ifname"] for link in links if link["ifname"] != "lo"]
        return str(name)

    def watch_port(self, port: int) -> None:
        for site in self.sites.values():
            nft(site.lan, f"add element inet watch port {{ {port} }}")

    def close(self) -> None:
        while self._made:
            run("ip", "netns", "del", self._made.pop(), check=False)


def nft(ns: str, script: str) -> None:
    run("ip", "netns", "exec", ns, "nft", "-f", "-", stdin=script)


def counters(ns: str) -> dict[str, int]:
    listed = json.loads(run("ip", "netns", "exec", ns, "nft", "-j", "list", "counters").stdout)
    return {
        item["counter"]["name"]: int(item["counter"]["packets"])
        for item in listed["nftables"]
        if "counter" in item
    }


@pytest.fixture
def lab() -> Iterator[Lab]:
    made = Lab()
    try:
        yield made
    finally:
        made.close()


def centre_config(tmp_path: Path, port: int) -> Path:
    data: dict[str, Any] = config_data(f"sqlite:///{tmp_path / 'centre.db'}", "city")
    data["sites"] = [
        {"id": site, "name": site, "zone": "city", "contract": "seed-000", "poller": f"p-{site}"}
        for site in WAN
    ]
    data["devices"] = [
        {"id": f"{site[0]}-cam{i}", "name": f"{site} cam{i}", "kind": "camera",
         "address": address, "site": site}
        for site in WAN
        for i, address in enumerate((CAM1, CAM2), start=1)
    ]  # fmt: skip
    return centre_file(tmp_path, data, CENTRE_IP, port, icmp=ICMP)


def test_two_sites_on_one_subnet_behind_nat_each_result_on_its_own_site(
    lab: Lab, tmp_path: Path
) -> None:
    # The centre cannot reach either LAN: nothing there could be probed from it.
    unreachable = run("ip", "-n", lab.centre, "route", "get", CAM2, check=False)
    assert unreachable.returncode != 0, unreachable.stdout
    port = free_port()
    lab.watch_port(port)
    config = centre_config(tmp_path, port)
    url = f"https://{CENTRE_IP}:{port}"
    codes: dict[str, tuple[str, str]] = {}
    for name in lab.sites:
        added = monitord("-c", str(config), "--lang", "en", "pollers", "add", name,
                         "--name", f"p-{name}")  # fmt: skip
        codes[name] = (
            added.split("one-time enrolment code: ")[1].split()[0],
            added.split("centre certificate: ")[1].split()[0],
        )

    def enrol(name: str) -> str:
        code, printed = codes[name]
        return monitord("poller", "enrol", "--centre", url, "--code", code, "--fingerprint",
                        printed, "--state-dir", str(tmp_path / f"p-{name}"),
                        ns=lab.sites[name].lan)  # fmt: skip

    centre = DaemonProcess(config, netns=lab.centre)
    pollers: dict[str, PollerProcess] = {}
    try:
        centre.started()
        with ThreadPoolExecutor(2) as pool:  # both sites at once: a few seconds less
            enrolled = dict(zip(lab.sites, pool.map(enrol, lab.sites), strict=True))
        for name, out in enrolled.items():
            assert f"p-{name}" in out
            pollers[name] = PollerProcess(lab.sites[name].lan, tmp_path / f"p-{name}")
        # The same 192.168.1.11: up at north, down at south; the .10s up at both.
        for device, state_ in (("n-cam1", "up"), ("n-cam2", "up"), ("s-cam1", "up")):
            centre.wait_state(device, state_, timeout=20)
        centre.wait_state("s-cam2", "down", timeout=20)
        pollers["south"].journaled("s-cam2", "down")
        assert not any(
            e.get("event") == "device state changed" and e.get("device") == "n-cam2"
            and e.get("to_state") == "down" for e in centre.lines
        )  # fmt: skip
    finally:
        for poller in pollers.values():
            poller.stop()
        centre.stop()

    # Each poller journaled only its own site's devices.
    for name, poller in pollers.items():
        seen = {e["device"] for e in poller.lines if e.get("event") == "journaled"}
        assert seen and all(d.startswith(f"{name[0]}-") for d in seen), (name, seen)

    states = {d["id"]: (d["site"], d["state"]) for d in cli_json(config, "devices")}
    assert states == {
        "n-cam1": ("north", "up"),
        "n-cam2": ("north", "up"),
        "s-cam1": ("south", "up"),
        "s-cam2": ("south", "down"),
    }
    store = Store.open(f"sqlite:///{tmp_path / 'centre.db'}")
    try:
        tickets = store.tickets.recent(None, None, 100)
        assert [(t.fault_kind, t.root_device) for t in tickets] == [("down", "s-cam2")]
    finally:
        store.close()

    seen_by_centre = counters(lab.centre)
    assert seen_by_centre["from_lan"] == 0, seen_by_centre
    assert seen_by_centre["from_north"] >= 1 and seen_by_centre["from_south"] >= 1
    for name, site in lab.sites.items():
        lan = counters(site.lan)
        # The poller dialled the centre's one port; every packet back was a reply to that.
        assert lan["syn_out"] >= 1 and lan["reply_in"] >= 1, (name, lan)
        assert lan["syn_in"] == lan["original_in"] == lan["other_in"] == 0, (name, lan)
        assert lan["other_out"] == 0, (name, lan)
        gateway = counters(site.gateway)
        # Nothing from the WAN opened anything at the gateway or through it into the LAN.
        assert gateway == {"new_in": 0, "original_in": 0}, (name, gateway)
