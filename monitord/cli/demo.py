"""`monitord demo`: the real daemon on a built-in demo site, with outages you can watch.

The demo runs in a private network namespace (`unshare`), where the demo devices are
addresses on the loopback interface. Taking an address away makes that device stop
answering for real, so the daemon confirms a fault, finds the root cause and sees the
recovery, with no hardware, no configuration and no traffic leaving the namespace.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import click
import yaml

from monitord import log
from monitord.cli.context import Context
from monitord.config import load
from monitord.present.devices import device_text
from monitord.present.tickets import tickets_text
from monitord.store import Store

_IN_NAMESPACE = "MONITORD_DEMO_NETNS"
_SITE = {
    "id": "demo-hq",
    "name": "演示小区 Demo Residence",
    "timezone": "Asia/Shanghai",
    "zone": "city",
    "contract": "seed-000",
}
# id, name, kind, last octet of 192.0.2.x (TEST-NET-1, inside the private namespace), parents
_DEVICES = [
    ("sw-core", "核心交换机 Core switch", "switch", 1, []),
    ("sw-gate", "大门接入交换机 Gate access switch", "switch", 2, ["sw-core"]),
    ("nvr-1", "硬盘录像机 NVR 1", "nvr", 3, ["sw-core"]),
    ("door-main", "大门门禁 Main entrance", "access_controller", 4, ["sw-core"]),
    *[(f"cam-{n:02d}", f"摄像机 Camera {n}", "camera", 10 + n, ["sw-gate"]) for n in (1, 2, 3)],
    *[(f"cam-{n:02d}", f"摄像机 Camera {n}", "camera", 10 + n, ["sw-core"]) for n in (4, 5, 6)],
]
# (seconds after start, action, device ids, what the audience should expect)
_SCRIPT = [
    (15.0, "cut", ["cam-05"], "camera cam-05 stops answering: confirmed DOWN after retries"),
    (28.0, "show", [], "what Prometheus sees now (cam-05 down):"),
    (35.0, "heal", ["cam-05"], "cam-05 answers again: UP at once"),
    (
        50.0,
        "cut",
        ["sw-gate", "cam-01", "cam-02", "cam-03"],
        "gate switch dies: it is DOWN, the cameras behind it are UNREACHABLE, not DOWN",
    ),
    (65.0, "show", [], "what Prometheus sees now (gate switch down):"),
    (75.0, "heal", ["sw-gate", "cam-01", "cam-02", "cam-03"], "gate switch back: all UP"),
]
_CYCLE = 95.0


def _seed_contracts() -> Path:
    """The seed contracts: packaged in a wheel, or config/contracts in a source checkout."""
    package = Path(__file__).resolve().parents[1]  # monitord/ (this module is monitord/cli/)
    packaged = package / "seed_contracts"
    return packaged if packaged.is_dir() else package.parent / "config/contracts"


def _address(device_id: str) -> str:
    return next(f"192.0.2.{o}" for d, _, _, o, _ in _DEVICES if d == device_id)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def run_demo(duration: float | None, state_dir: Path | None, lang: str) -> int:
    if os.environ.get(_IN_NAMESPACE) != "1":
        return _enter_namespace(duration, state_dir, lang)
    _ip("link", "set", "lo", "up")
    for device_id, *_ in _DEVICES:
        _ip("addr", "add", f"{_address(device_id)}/32", "dev", "lo")
    workdir = state_dir or Path(tempfile.mkdtemp(prefix="monitord-demo-"))
    config_path = _write_config(workdir)
    log.configure("info")
    print(f"monitord demo: state in {workdir}; the story (seconds):", flush=True)
    for at, action, _, story in _SCRIPT:
        if action != "show":
            print(f"  t+{at:>3.0f}s  {story}", flush=True)
    asyncio.run(_run(config_path, duration))
    store = Store.open(load(config_path).database_url)
    for device_id in ("cam-05", "sw-gate", "cam-01"):
        record = store.devices.get(device_id)
        if record is not None:
            print(
                "\n"
                + device_text(
                    record,
                    store.states.load().get(device_id),
                    store.states.operation_record(device_id, 10),
                    str(_SITE["timezone"]),
                    lang,
                ),
                flush=True,
            )
    tz = {str(_SITE["id"]): str(_SITE["timezone"])}
    print("\nTickets (monitord tickets) — one per root cause, with the contract's clocks:")
    print(tickets_text(store.tickets.recent(), tz), flush=True)
    store.close()
    return 0


def _enter_namespace(duration: float | None, state_dir: Path | None, lang: str) -> int:
    unshare = shutil.which("unshare")
    if unshare is None or shutil.which("ip") is None:
        print("monitord demo needs `unshare` (util-linux) and `ip` (iproute2)", file=sys.stderr)
        return 1
    isolate = ["--net"] if os.geteuid() == 0 else ["--user", "--map-root-user", "--net"]
    argv = [unshare, *isolate, sys.executable, "-m", "monitord", "--lang", lang, "demo"]
    if duration is not None:
        argv += ["--duration", str(duration)]
    if state_dir is not None:
        argv += ["--state-dir", str(state_dir)]
    try:
        return subprocess.run(argv, env={**os.environ, _IN_NAMESPACE: "1"}, check=False).returncode
    except KeyboardInterrupt:
        return 130


def _write_config(workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "include": [str(_seed_contracts() / "*.yaml")],
        "state_dir": str(workdir),
        "icmp_mode": "raw",
        "metrics": {"listen": "127.0.0.1", "port": 0},
        "icmp": {"interval": 5, "retry_interval": 1, "max_attempts": 3, "count": 2},
        "sites": [_SITE],
        "devices": [
            {
                "id": d,
                "name": n,
                "kind": k,
                "address": _address(d),
                "site": _SITE["id"],
                "parents": p,
                "location": "demo",
            }
            for d, n, k, _, p in _DEVICES
        ],
    }
    path = workdir / "monitord.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    return path


async def _run(config_path: Path, duration: float | None) -> None:
    from monitord.app import Daemon

    daemon = Daemon(config_path, load(config_path))
    started = asyncio.Event()
    task = asyncio.create_task(daemon.run(ready=started.set))
    await started.wait()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    try:
        for cycle in itertools.count():
            for at, action, devices, story in _SCRIPT:
                when = cycle * _CYCLE + at
                if duration is not None and when > duration:
                    await asyncio.sleep(max(0.0, t0 + duration - loop.time()))
                    return
                await asyncio.sleep(max(0.0, t0 + when - loop.time()))
                print(f"\n>>> {story}", flush=True)
                if action == "show":
                    print(await asyncio.to_thread(_metrics_summary, daemon.metrics_port))
                verb = "del" if action == "cut" else "add"
                for device_id in devices:  # "show" has none
                    _ip("addr", verb, f"{_address(device_id)}/32", "dev", "lo")
    finally:
        print(await asyncio.to_thread(_metrics_summary, daemon.metrics_port), flush=True)
        daemon.stop()
        await task


def _metrics_summary(port: int | None) -> str:
    """A real scrape of the daemon's /metrics, cut to the lines a newcomer cares about."""
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    keep = [
        line
        for line in text.splitlines()
        if line.startswith("monitord_device_up{")
        or (line.startswith("monitord_devices{") and not line.endswith(" 0.0"))
    ]
    return f"--- {url} ---\n" + "\n".join(keep)


@click.command()
@click.option(
    "--duration",
    type=float,
    default=None,
    help="Stop after this many seconds (default: until Ctrl-C).",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the demo keeps its SQLite database (default: a temporary directory).",
)
@click.pass_obj
def demo(obj: Context, duration: float | None, state_dir: Path | None) -> None:
    """Run the daemon on a built-in demo site: watch a camera fail and recover."""
    sys.exit(run_demo(duration, state_dir, obj.lang))


COMMANDS = (demo,)
