"""The whole daemon at fleet size: `monitord run` on N devices in a namespace lab, end to end.

    sudo .venv/bin/python bench/fleet.py [--devices 1000] [--steady 60] [--cut 2] [--python P] \
        [--protocols icmp,snmp,onvif]

The lab (built and removed by this script; needs root, `ip`, `nft`, `fping`): three network
namespaces, client -> router -> hosts, so every device is one routed hop away. The hosts
namespace holds one address per device (198.19.S.D/32 on its loopback, RFC 2544's
benchmark range, reachable only inside the lab); its nftables input chain counts every
echo request and drops those to the addresses in the `cut` set. Site S (250 devices) is
one switch (.1), one NVR (.2) and 248 cameras (.3-.250), all behind the switch, under the
seed-000 contract so tickets open. ICMP settings are the defaults (3 echoes every 10 s).
`--protocols` adds, with their defaults, SNMP v2c to every switch and NVR (the hosts
namespace runs net-snmp's snmpd on udp/161 of every address) and ONVIF with credentials to
every camera (bench/onvif_sim.py --lab answers SOAP on 80 and RTSP on 554 of every address,
each answer naming the camera's own address), so every check has a real peer answering.

Phases, each bounded by a deadline:
1. reference: fping alone, the same echoes to the same targets over the same time, twice:
   in bursts as the daemon sends them (one `fping -c COUNT -p 200` per interval, the
   ratio's reference) and evenly spaced (one fping, `-p interval / count`); CPU by wait4().
2. the daemon starts; once every device is UP and `--warm` seconds more have passed (300:
   past ONVIF's first look at every camera, five calls each, spread over its 5-minute
   interval; then one call per check), `--steady` seconds measured: CPU from
   /proc/<pid>/stat (utime + stime), echoes from the lab's counter, RSS, scheduler lag p99
   from its /metrics (histogram delta over the phase, bucket upper bound).
3. `--cut` whole switch subtrees stop answering: time to HARD DOWN / UNREACHABLE per device
   (p50/p95, from the daemon's JSON log as it arrives), tickets (count, class, impact size,
   duplicates, from `monitord tickets --json`) and time to the last ticket.
4. SIGKILL, restart: time until it logs "monitord started"; heal; recovered tickets.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
PER_SITE = 250  # 1 switch + 1 NVR + 248 cameras
METRICS_PORT = 9108
TICKS = os.sysconf("SC_CLK_TCK")
TARGET_RATIO, TARGET_RSS_MB, TARGET_P95_S, TARGET_RESTART_S = 2.0, 150.0, 20.0, 5.0
# The defaults of IcmpSettings: what an operator gets without tuning.
INTERVAL, COUNT, ECHO_INTERVAL, TIMEOUT = 10.0, 3, 0.2, 1.0
SNMP_COMMUNITY = "fleet-lab"
PROTOCOLS = ("icmp", "snmp", "onvif")


def sh(args: Sequence[str], stdin: str | None = None, timeout: float = 120) -> str:
    done = subprocess.run(
        args, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[:6])} failed: {done.stderr.strip()}")
    return done.stdout


def address(i: int) -> str:
    return f"198.19.{i // PER_SITE}.{i % PER_SITE + 1}"


class Lab:
    """client (198.18.0.1) -> router -> hosts (every device address on its loopback)."""

    def __init__(self, devices: int) -> None:
        tag = f"{os.getpid() % 100000}"
        self.client, self.router, self.hosts = (f"fleet{tag}-{x}" for x in "crh")
        self.devices = devices
        self._made: list[str] = []
        self._peers: list[subprocess.Popen[bytes]] = []

    def build(self) -> None:
        for ns in (self.client, self.router, self.hosts):
            sh(["ip", "netns", "add", ns])
            self._made.append(ns)
        c, r = self.client, self.router
        h = self.hosts
        sh(["ip", "-n", c, "link", "add", "eth0", "type", "veth", "peer", "name", "rc", "netns", r])
        sh(["ip", "-n", r, "link", "add", "rh", "type", "veth", "peer", "name", "eth0", "netns", h])
        batch = {
            c: ["link set lo up", "link set eth0 up", "addr add 198.18.0.1/30 dev eth0",
                "route add 198.19.0.0/16 via 198.18.0.2"],
            r: ["link set lo up", "link set rc up", "link set rh up",
                "addr add 198.18.0.2/30 dev rc", "addr add 198.18.1.1/30 dev rh",
                "route add 198.19.0.0/16 via 198.18.1.2"],
            h: ["link set lo up", "link set eth0 up", "addr add 198.18.1.2/30 dev eth0",
                "route add default via 198.18.1.1",]
            + [f"addr add {address(i)}/32 dev lo" for i in range(self.devices)],
        }  # fmt: skip
        for ns, lines in batch.items():
            sh(["ip", "-n", ns, "-batch", "-"], stdin="\n".join(lines) + "\n", timeout=300)
        sh(["ip", "netns", "exec", r, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        rules = """
            table inet fleet {
                counter echoes { }
                set cut { type ipv4_addr; }
                chain input {
                    type filter hook input priority 0; policy accept;
                    icmp type echo-request counter name "echoes"
                    ip daddr @cut icmp type echo-request drop
                }
            }
        """
        sh(["ip", "netns", "exec", h, "nft", "-f", "-"], stdin=rules)

    def peers(self, protocols: set[str], directory: Path) -> None:
        """The protocols' peers in the hosts namespace, ready before this returns."""
        inside = ["ip", "netns", "exec", self.hosts]
        if "snmp" in protocols:
            conf = directory / "snmpd.conf"
            conf.write_text(f"agentaddress udp:161\nrocommunity {SNMP_COMMUNITY} default\n")
            self._peers.append(subprocess.Popen(
                [*inside, "snmpd", "-f", "-Lf", str(directory / "snmpd.log"), "-C", "-c",
                 str(conf), "-p", str(directory / "snmpd.pid")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
        if "onvif" in protocols:
            sim = subprocess.Popen(
                [*inside, sys.executable, str(REPO / "bench" / "onvif_sim.py"), "--lab"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
            self._peers.append(sim)
            assert sim.stdout is not None
            if sim.stdout.readline().strip() != b"ready":
                raise RuntimeError("bench/onvif_sim.py --lab did not start")
        if "snmp" in protocols:
            probe = [*inside, "snmpget", "-v2c", "-c", SNMP_COMMUNITY, "-r", "0", "-t", "1",
                     address(0), "1.3.6.1.2.1.1.3.0"]  # fmt: skip
            deadline = time.monotonic() + 120  # it reads 10 000 addresses first
            while subprocess.run(probe, capture_output=True, check=False).returncode:
                if time.monotonic() > deadline or self._peers[0].poll() is not None:
                    log = (directory / "snmpd.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"snmpd in the lab does not answer:\n{log}")
                time.sleep(0.2)

    def peers_cpu(self) -> float:
        """CPU seconds of the peers so far (their own, not ours)."""
        total = 0.0
        for proc in self._peers:
            for pid in [proc.pid, *_children(proc.pid)]:
                with contextlib.suppress(OSError):
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    total += (int(fields[11]) + int(fields[12])) / TICKS
        return total

    def echoes(self) -> int:
        out = sh(["ip", "netns", "exec", self.hosts, "nft", "-j", "list", "counter", "inet",
                  "fleet", "echoes"])  # fmt: skip
        for item in json.loads(out)["nftables"]:
            if "counter" in item:
                return int(item["counter"]["packets"])
        raise RuntimeError("no echo counter in the lab")

    def cut(self, addresses: Sequence[str], add: bool = True) -> None:
        verb = "add" if add else "delete"
        sh(["ip", "netns", "exec", self.hosts, "nft", verb, "element", "inet", "fleet", "cut",
            "{ " + ", ".join(addresses) + " }"])  # fmt: skip

    def close(self) -> None:
        for proc in self._peers:
            for pid in _children(proc.pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            proc.kill()
            proc.wait(10)
        while self._made:
            subprocess.run(["ip", "netns", "del", self._made.pop()], check=False, timeout=60)


def _children(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(c) for p in found for c in [p, *map(str, _children(int(p)))]]
    return []


def write_config(
    directory: Path, devices: int, protocols: set[str]
) -> tuple[Path, list[dict[str, Any]]]:
    sites = math.ceil(devices / PER_SITE)
    listed: list[dict[str, Any]] = []
    for i in range(devices):
        s, d = divmod(i, PER_SITE)
        kind = "switch" if d == 0 else "nvr" if d == 1 else "camera"
        entry: dict[str, Any] = {"id": f"s{s:02d}-{kind}-{d:03d}", "kind": kind,
                                 "site": f"s{s:02d}", "address": address(i)}  # fmt: skip
        if d:
            entry["parents"] = [f"s{s:02d}-switch-000"]
        if "snmp" in protocols and kind != "camera":
            entry["snmp"] = {"version": "2c", "community": {"env": "FLEET_SNMP_COMMUNITY"}}
        if "onvif" in protocols and kind == "camera":
            entry["onvif"] = {"username": "monitor", "password": {"env": "FLEET_ONVIF_PASSWORD"}}
        entry["name"] = entry["id"]
        listed.append(entry)
    config = {
        "state_dir": str(directory / "state"),
        "icmp_mode": "raw",
        "metrics": {"listen": "127.0.0.1", "port": METRICS_PORT},
        "include": [str(REPO / "config" / "contracts" / "*.yaml")],
        "sites": [
            {
                "id": f"s{s:02d}",
                "name": f"Site {s}",
                "timezone": "Asia/Shanghai",
                "contract": "seed-000",
            }
            for s in range(sites)
        ],
        "devices": listed,
    }
    path = directory / "monitord.yaml"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump(config, Dumper=dumper), encoding="utf-8")
    return path, listed


class Daemon:
    """`monitord run` in the client namespace; JSON log lines kept with their arrival time."""

    def __init__(self, config: Path, netns: str, python: str) -> None:
        cmd = ["ip", "netns", "exec", netns, python, "-m", "monitord", "-c", str(config),
               "run", "--log-format", "json"]  # fmt: skip
        self.began = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "FLEET_SNMP_COMMUNITY": SNMP_COMMUNITY,
                 "FLEET_ONVIF_PASSWORD": "fleet-lab-password"},
        )  # fmt: skip
        self.lines: list[tuple[float, dict[str, Any]]] = []
        self.raw: list[str] = []
        self._new: queue.Queue[None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.raw.append(line)
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            self.lines.append((time.monotonic(), entry))
            self._new.put(None)

    def wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited while waiting for {what}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what} within {timeout:g}s:\n{self.tail()}")
            with contextlib.suppress(queue.Empty):
                self._new.get(timeout=0.5)

    def events(self, name: str, since: float = 0.0) -> list[tuple[float, dict[str, Any]]]:
        return [(t, e) for t, e in list(self.lines) if t >= since and e.get("event") == name]

    def cpu_split(self) -> tuple[float, float]:
        """(user, system) CPU seconds so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) / TICKS, int(fields[12]) / TICKS  # utime, stime

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def tail(self, n: int = 20) -> str:
        return "".join(self.raw[-n:])

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def fping_reference(
    lab: Lab, targets: list[str], seconds: float, bursts: bool
) -> tuple[float, float, int]:
    """(user and system CPU seconds, echoes the lab counted) for fping sending what the
    daemon sends.

    bursts: what the daemon does, one fping per interval: each target gets COUNT echoes
    ECHO_INTERVAL apart, the targets spread over the interval. Else one fping for the
    whole time, each target's echoes evenly spaced (-p interval / count): the same echoes,
    but fping's own per-target timers cost it more per echo.
    """
    rounds = max(1, round(seconds / INTERVAL))
    with tempfile.NamedTemporaryFile("w", suffix=".targets") as listing:
        listing.write("\n".join(targets) + "\n")
        listing.flush()
        before, user, system = lab.echoes(), 0.0, 0.0
        if bursts:
            gap_ms = max(0.01, INTERVAL * 1000 / (len(targets) * COUNT) / 2)
            runs = [(COUNT, ECHO_INTERVAL * 1000, gap_ms)] * rounds
        else:
            gap_ms = max(0.05, INTERVAL * 1000 / COUNT / len(targets) / 2)
            runs = [(rounds * COUNT, INTERVAL * 1000 / COUNT, gap_ms)]
        for count, period_ms, gap in runs:
            began = time.monotonic()
            u, s = _fping(lab, listing.name, count, period_ms, gap, seconds * 3 + 60)
            user, system = user + u, system + s
            if bursts:  # the next round starts one interval after this one
                time.sleep(max(0.0, INTERVAL - (time.monotonic() - began)))
    return user, system, lab.echoes() - before


def _fping(
    lab: Lab, listing: str, count: int, period_ms: float, gap_ms: float, limit: float
) -> tuple[float, float]:
    proc = subprocess.Popen(
        ["ip", "netns", "exec", lab.client, "fping", "-q", "-c", str(count),
         "-p", f"{period_ms:.0f}", "-i", f"{gap_ms:.2f}", "-t", f"{TIMEOUT * 1000:.0f}",
         "-f", listing],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + limit
    while True:
        pid, _status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError("fping did not finish")
        time.sleep(0.05)
    proc.returncode = 0  # reaped by wait4, Popen must not wait for it again
    return usage.ru_utime, usage.ru_stime


def scrape(lab: Lab) -> str:
    return sh(["ip", "netns", "exec", lab.client, "curl", "-sf", "--max-time", "60",
               f"http://127.0.0.1:{METRICS_PORT}/metrics"])  # fmt: skip


def lag_buckets(text: str) -> dict[float, float]:
    found: dict[float, float] = {}
    for m in re.finditer(r'^monitord_scheduler_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', text,
                         re.MULTILINE):  # fmt: skip
        found[float(m.group(1))] = float(m.group(2))
    return found


def onvif_calls(text: str) -> dict[str, float]:
    found: Counter[str] = Counter()
    for m in re.finditer(r"^monitord_onvif_call_duration_seconds_count\{([^}]*)\} (\S+)$", text,
                         re.MULTILINE):  # fmt: skip
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        found[labels.get("outcome", "?")] += float(m.group(2))
    return dict(found)


def snmp_findings(text: str) -> dict[str, int]:
    found: Counter[str] = Counter()
    for m in re.finditer(r"^monitord_snmp_finding_status\{([^}]*)\} (\S+)$", text, re.MULTILINE):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        found[f"{labels.get('check', '?')}={m.group(2)}"] += 1
    return dict(found)


def p99_bound(before: dict[float, float], after: dict[float, float]) -> str:
    delta = {le: after[le] - before.get(le, 0.0) for le in after}
    total = delta.get(math.inf, 0.0)
    if not total:
        return "n/a (no checks observed)"
    for le in sorted(delta):
        if delta[le] >= 0.99 * total:
            return f"<= {le:g}s (histogram bucket; {total:.0f} checks)"
    return "n/a"


def cli_json(config: Path, python: str, *args: str) -> tuple[Any, float]:
    began = time.monotonic()
    out = sh([python, "-m", "monitord", "-c", str(config), *args, "--json"], timeout=120)
    return json.loads(out), time.monotonic() - began


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--steady", type=float, default=60.0, help="seconds measured steady")
    parser.add_argument("--warm", type=float, default=INTERVAL,
                        help="seconds after every device is UP before the steady phase")  # fmt: skip
    parser.add_argument("--cut", type=int, default=None, help="switch subtrees cut (default 1/10)")
    parser.add_argument("--settle", type=float, default=90.0, help="deadline for each phase")
    parser.add_argument("--protocols", default="icmp", help="icmp, plus snmp and/or onvif")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter that runs monitord: a venv made by `pip install .`"
                             " leaves out the test extras (pysmi and what it imports, ~7 MB); make"
                             " it from the interpreter production runs: a pyenv build without"
                             " --enable-optimizations took 1.4-1.6 times as long on pure Python as"
                             " Debian's python3.11 here")  # fmt: skip
    args = parser.parse_args()
    args.protocols = set(args.protocols.split(","))
    if "icmp" not in args.protocols or args.protocols - set(PROTOCOLS):
        parser.error(f"--protocols: icmp plus any of {', '.join(PROTOCOLS[1:])}")
    needs = ("ip", "nft", "fping", "curl") + (("snmpd", "snmpget") if "snmp" in args.protocols
                                               else ())  # fmt: skip
    if os.geteuid() != 0 or not all(shutil.which(t) for t in needs):
        parser.error(f"needs root and {', '.join(needs)}")
    if not PER_SITE <= args.devices <= 250 * PER_SITE:
        parser.error(f"--devices must be {PER_SITE}..{250 * PER_SITE}")
    lab = Lab(args.devices)
    daemons: list[Daemon] = []
    with tempfile.TemporaryDirectory(prefix="fleet-") as tmp:
        try:
            began = time.monotonic()
            lab.build()
            lab.peers(args.protocols, Path(tmp))
            config, devices = write_config(Path(tmp), args.devices, args.protocols)
            print(f"fleet: {args.devices} devices, {math.ceil(args.devices / PER_SITE)} sites, "
                  f"one routed hop; ICMP every {INTERVAL:g}s x {COUNT} echoes; protocols "
                  f"{','.join(p for p in PROTOCOLS if p in args.protocols)}; lab built in "
                  f"{time.monotonic() - began:.1f}s", flush=True)  # fmt: skip
            run(lab, config, devices, args, daemons)
        except Exception:
            if daemons:
                print(f"the daemon's last lines:\n{daemons[-1].tail()}", flush=True)
            raise
        finally:
            for d in daemons:
                d.stop(signal.SIGKILL)
            lab.close()


def run(
    lab: Lab, config: Path, devices: list[dict[str, Any]], args: Any, box: list[Daemon]
) -> None:
    targets = [d["address"] for d in devices]
    ids = [d["id"] for d in devices]

    # 1. The reference first, alone on the machine's cores.
    refs: dict[str, float] = {}
    for name, bursts in (("bursts", True), ("evenly spaced", False)):
        user, system, fping_echoes = fping_reference(lab, targets, args.steady, bursts)
        refs[name] = (user + system) / max(1, fping_echoes) * 1e6
        print(f"fping ({name}): {fping_echoes} echoes in ~{args.steady:g}s, CPU "
              f"{user + system:.2f}s (user {user:.2f}, system {system:.2f}), "
              f"{refs[name]:.1f} us/echo", flush=True)  # fmt: skip
    fping_us = refs["bursts"]

    # 2. The daemon, steady.
    daemon = Daemon(config, lab.client, args.python)
    box.append(daemon)
    daemon.wait(lambda: bool(daemon.events("monitord started")), args.settle, "start")
    started = daemon.events("monitord started")[0][0] - daemon.began
    rss_started = daemon.rss_mb()

    def up_now() -> set[str]:
        state: dict[str, str] = {}
        for _, e in daemon.events("device state changed"):
            state[e["device"]] = e["to_state"]
        return {d for d, s in state.items() if s == "up"}

    daemon.wait(lambda: len(up_now()) >= len(ids), args.settle, "every device UP")
    all_up = time.monotonic() - daemon.began
    time.sleep(args.warm)  # the first checks' burst is over; the schedule is spread
    text0 = scrape(lab)
    lag0, split0, echoes0, t0 = lag_buckets(text0), daemon.cpu_split(), lab.echoes(), \
        time.monotonic()  # fmt: skip
    peers0 = lab.peers_cpu()
    time.sleep(args.steady)
    split1, echoes1, t1 = daemon.cpu_split(), lab.echoes(), time.monotonic()
    text1 = scrape(lab)
    lag1, rss_steady = lag_buckets(text1), daemon.rss_mb()
    user, system = split1[0] - split0[0], split1[1] - split0[1]
    cpu, echoes = user + system, echoes1 - echoes0
    ours_us = cpu / max(1, echoes) * 1e6
    print(f"daemon: started in {started:.1f}s (RSS {rss_started:.0f} MB), all UP after "
          f"{all_up:.1f}s; steady phase from {t0 - daemon.began:.0f}s", flush=True)  # fmt: skip
    print(f"daemon steady {t1 - t0:.0f}s: {echoes} echoes, CPU {cpu:.2f}s (user {user:.2f}, "
          f"system {system:.2f}; {cpu / (t1 - t0) * 100:.1f}% of a core), {ours_us:.1f} us/echo; "
          f"ratio to fping (bursts) {ours_us / fping_us:.2f} (target <= {TARGET_RATIO:g}), to "
          f"fping (evenly spaced) {ours_us / refs['evenly spaced']:.2f}")  # fmt: skip
    print(f"daemon RSS steady: {rss_steady:.0f} MB (target <= {TARGET_RSS_MB:g} MB with SNMP and "
          f"ONVIF on; this run: {','.join(p for p in PROTOCOLS if p in args.protocols)}); "
          f"scheduler lag p99 {p99_bound(lag0, lag1)}", flush=True)  # fmt: skip
    if len(args.protocols) > 1:
        calls = {k: v - onvif_calls(text0).get(k, 0.0) for k, v in onvif_calls(text1).items()}
        print(f"steady protocols: ONVIF calls by outcome {dict(sorted(calls.items()))}; SNMP "
              f"findings {snmp_findings(text1)}; the peers' own CPU "
              f"{lab.peers_cpu() - peers0:.2f}s (not ours)", flush=True)  # fmt: skip

    # 3. Cut whole switch subtrees.
    sites = math.ceil(len(ids) / PER_SITE)
    cut_sites = list(range(min(sites, args.cut or max(1, sites // 10))))
    cut = [i for i in range(len(ids)) if i // PER_SITE in cut_sites]
    cut_ids = {ids[i] for i in cut}
    switches = {ids[s * PER_SITE] for s in cut_sites}
    cut_at = time.monotonic()
    lab.cut([targets[i] for i in cut])

    def hard_since(at: float) -> dict[str, float]:
        first: dict[str, float] = {}
        for t, e in daemon.events("device state changed", at):
            if e["device"] in cut_ids and e["to_state"] in ("down", "unreachable"):
                first.setdefault(e["device"], t - cut_at)
        return first

    daemon.wait(lambda: len(hard_since(cut_at)) >= len(cut_ids), args.settle, "HARD states")
    hard = hard_since(cut_at)
    opened = lambda: [t for t, e in daemon.events("ticket opened", cut_at)]
    daemon.wait(lambda: len(opened()) >= len(switches), args.settle, "tickets")
    time.sleep(3)  # stragglers (a duplicate would show here)
    last_ticket = max(opened()) - cut_at
    found, cli_s = cli_json(config, args.python, "tickets")
    active = [t for t in found if t["status"] != "closed"]
    keys = Counter((t["contract"], t["root_device"], t["fault"]) for t in active)
    print(f"cut {len(cut_sites)} switch subtrees ({len(cut_ids)} devices): HARD after "
          f"p50 {statistics.median(hard.values()):.1f}s p95 {pct(list(hard.values()), 0.95):.1f}s "
          f"max {max(hard.values()):.1f}s (target p95 <= {TARGET_P95_S:g}s); the switches "
          f"DOWN after {min(hard[s] for s in switches):.1f}-"
          f"{max(hard[s] for s in switches):.1f}s")  # fmt: skip
    print(f"tickets: {len(active)} active (roots cut: {len(switches)}), classes "
          f"{dict(Counter(t['class'] for t in active))}, impact sizes "
          f"{sorted(Counter(len(t['impacted_devices']) for t in active).items())}, duplicates "
          f"{sum(n - 1 for n in keys.values())} (target 0), roots "
          f"{'as cut' if {t['root_device'] for t in active} == switches else 'WRONG'}; "
          f"last ticket {last_ticket:.1f}s after the cut; `tickets --json` took {cli_s:.2f}s",
          flush=True)  # fmt: skip
    rss_storm = daemon.rss_mb()

    # 4. SIGKILL, restart, heal.
    daemon.stop(signal.SIGKILL)
    daemon = Daemon(config, lab.client, args.python)
    box.append(daemon)
    daemon.wait(lambda: bool(daemon.events("monitord started")), args.settle, "restart")
    restart = daemon.events("monitord started")[0][0] - daemon.began
    heal_at = time.monotonic()
    lab.cut([targets[i] for i in cut], add=False)

    def back() -> set[str]:
        return {e["device"] for _, e in daemon.events("device state changed", heal_at)
                if e["device"] in cut_ids and e["to_state"] == "up"}  # fmt: skip

    daemon.wait(lambda: len(back()) >= len(cut_ids), args.settle, "every cut device UP")
    healed = time.monotonic() - heal_at
    time.sleep(3)
    found, _ = cli_json(config, args.python, "tickets")
    recovered = [t for t in found if t["root_device"] in switches and t["recovered"]]
    print(f"SIGKILL -> restarted (logged 'monitord started') in {restart:.1f}s "
          f"(target <= {TARGET_RESTART_S:g}s); healed: {len(back())}/{len(cut_ids)} UP after "
          f"{healed:.1f}s; tickets recovered {len(recovered)}/{len(switches)}")  # fmt: skip
    print(f"RSS by phase: started {rss_started:.0f} MB, steady {rss_steady:.0f} MB, storm "
          f"{rss_storm:.0f} MB, restarted {daemon.rss_mb():.0f} MB", flush=True)  # fmt: skip
    daemon.stop()


if __name__ == "__main__":
    main()
