"""A discovery run over a /22 of loopback addresses with 300 devices: `monitord discover`
as a user runs it (its own process), against WS-Discovery and SADP responders (tests/peers)
and 48-port switches: a counting relay (tests/peers/udprelay.py, its own process) at one
address per switch in front of snmpsim serving a generated 48-port switch with ~430
forwarding entries (tests/support/topolab.py).

Prints wall time per /24 (target <= 30 s), the most SNMP requests any one switch received
in one second (kernel arrival times; cap 50) and the time from the first request for a
switch's tables to the last (target <= 5 s per 48-port switch's tables; the GET that found
the agent, in the sweep's first phase, is counted apart), beside the same run's references:
the pacing floor (requests / per-switch rate) and one unpaced walk of the same switch.

    .venv/bin/python bench/discover.py [--cameras 250 --sadp 20 --switches 30 --rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml
from pydantic import SecretStr

from monitord.checks.snmp.client import Credentials, SnmpClient
from monitord.discovery import snmp as dsnmp
from monitord.discovery.pacing import HEADROOM
from monitord.discovery.scope import Pacer
from tests.peers.sadp import SadpResponder
from tests.peers.snmp import Snmpsim, free_udp_port, snmpsim_missing
from tests.peers.udprelay import UdpRelay, max_per_second
from tests.peers.wsd import WsdResponder
from tests.support import topolab

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--cameras", type=int, default=250)
    p.add_argument("--sadp", type=int, default=20)
    p.add_argument("--switches", type=int, default=30)
    p.add_argument("--rate", type=float, default=200.0, help="the sweep's probes/s")
    a = p.parse_args()
    why = snmpsim_missing()
    if why:
        print(why)
        return 1
    second = random.randint(100, 250)
    hosts = [f"127.{second}.{third}.{last}" for third in range(4) for last in range(1, 255)]
    random.Random(5).shuffle(hosts)
    cams, sadps = hosts[: a.cameras], hosts[a.cameras : a.cameras + a.sadp]
    switches = hosts[a.cameras + a.sadp : a.cameras + a.sadp + a.switches]
    wsd_port, sadp_port, snmp_port = free_udp_port(), free_udp_port(), free_udp_port()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        lab = topolab.build(random.Random(17), 28, 14, 0.1, 0.7)
        topolab.write(work / "data", lab.tables(flood=True))
        sim = stack.enter_context(Snmpsim(work, data=work / "data", probe="sw0"))
        relay = stack.enter_context(UdpRelay(work, snmp_port, sim.port, switches))
        for i, h in enumerate(cams):
            xaddr = f"http://{h}:1/onvif/device_service"  # closed: identity fails fast
            stack.enter_context(WsdResponder(h, wsd_port, xaddr=xaddr, name=f"cam{i}"))
        for i, h in enumerate(sadps):
            stack.enter_context(
                SadpResponder(h, sadp_port, mac=f"c0:56:e3:00:{i // 256:02x}:{i % 256:02x}")
            )
        config = write_config(work, f"127.{second}.0.0/22", a.rate, wsd_port, sadp_port, snmp_port)
        env = {**os.environ, "T_BENCH_COMMUNITY": "sw0", "PYTHONPATH": str(REPO)}
        start = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "monitord", "-c", str(config), "discover", "--site", "bench",
             "--json"], capture_output=True, text=True, env=env, check=False, timeout=600,
        )  # fmt: skip
        wall = time.monotonic() - start
        if done.returncode != 0:
            print(done.stderr[-2000:])
            return 1
        changes = json.loads(done.stdout)["changes"]
        arrivals = relay.arrivals()
        reference = asyncio.run(unpaced(sim.port))
    new = sum(1 for c in changes if c["change"] == "new")
    per_switch = [len(v) for v in arrivals.values()]
    # A switch's tables: every request after the one GET that found the agent (the sweep's
    # first phase, spread over all addresses); the whole span beside it, that GET included.
    spans = [v[-1] - v[1] for v in arrivals.values() if len(v) > 1]
    whole = [v[-1] - v[0] for v in arrivals.values() if v]
    peak = max(max_per_second(v) for v in arrivals.values())
    floor = max(per_switch) / (50 * HEADROOM)
    print(f"devices: {a.cameras} WS-Discovery + {a.sadp} SADP + {a.switches} switches "
          f"in a /22 ({len(hosts)} addresses); proposed new: {new}")  # fmt: skip
    print(f"wall: {wall:.1f} s in all, {wall / 4:.1f} s per /24 (target <= 30 s)")
    print(f"max SNMP requests/s at any one switch: {peak} (cap 50)")
    print(f"requests per switch: {min(per_switch)}-{max(per_switch)}; a switch's tables, "
          f"first->last request: max {max(spans):.2f} s, median {median(spans):.2f} s (target "
          f"<= 5 s); pacing floor {floor:.2f} s; reference, one unpaced walk of the same "
          f"switch: {reference:.2f} s; with the GET that found it: max {max(whole):.2f} s, "
          f"median {median(whole):.2f} s")  # fmt: skip
    return 0


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def write_config(work: Path, net: str, rate: float, wsd: int, sadp: int, snmp: int) -> Path:
    doc = {
        "state_dir": str(work / "state"),
        "sites": [{"id": "bench", "name": "Bench", "discovery": {
            "ranges": [net], "rate": rate, "listen": 1.0, "wsd_port": wsd, "sadp_port": sadp,
            "sweep_ports": [1], "snmp": [{"community": {"env": "T_BENCH_COMMUNITY"},
                                          "port": snmp}],
        }}],
    }  # fmt: skip
    path = work / "monitord.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


async def unpaced(port: int) -> float:
    client = SnmpClient()
    try:
        start = time.monotonic()
        got = await dsnmp.read_agent(
            client, "127.0.0.1", [Credentials("2c", community=SecretStr("sw0"))],
            Pacer(5000.0), port=port,
        )  # fmt: skip
        assert got is not None and got.fdb
        return time.monotonic() - start
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
