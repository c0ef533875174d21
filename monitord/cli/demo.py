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
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import click
import yaml

from monitord import log
from monitord.cli.context import Context
from monitord.config.load import load
from monitord.present import i18n
from monitord.present.devices import device_text
from monitord.present.tickets import tickets_text
from monitord.store import Store

_IN_NAMESPACE = "MONITORD_DEMO_NETNS"
# The console's listening socket, bound on the host's loopback before entering the private
# namespace and inherited by the daemon there: a browser outside reaches it, nothing else does.
_CONSOLE_FD = "MONITORD_DEMO_CONSOLE_FD"
# name -> role; the customer is bound to the demo site's contract and site.
_ACCOUNTS = ("engineer", "dispatcher", "customer")
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


def run_demo(duration: float | None, state_dir: Path | None, lang: str, port: int) -> int:
    if os.environ.get(_IN_NAMESPACE) != "1":
        return _enter_namespace(duration, state_dir, lang, port)
    _ip("link", "set", "lo", "up")
    for device_id, *_ in _DEVICES:
        _ip("addr", "add", f"{_address(device_id)}/32", "dev", "lo")
    inherited = os.environ.get(_CONSOLE_FD)
    sock = (socket.socket(fileno=int(inherited)) if inherited
            else socket.create_server(("127.0.0.1", port)))  # fmt: skip
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    workdir = state_dir or Path(tempfile.mkdtemp(prefix="monitord-demo-"))
    config_path = _write_config(workdir, url)
    log.configure("info")
    print(f"monitord demo: state in {workdir}; the story (seconds):", flush=True)
    for at, action, _, story in _SCRIPT:
        if action != "show":
            print(f"  t+{at:>3.0f}s  {story}", flush=True)
    asyncio.run(_run(config_path, duration, sock, url, lang))
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


def _enter_namespace(duration: float | None, state_dir: Path | None, lang: str, port: int) -> int:
    unshare = shutil.which("unshare")
    if unshare is None or shutil.which("ip") is None:
        print("monitord demo needs `unshare` (util-linux) and `ip` (iproute2)", file=sys.stderr)
        return 1
    isolate = ["--net"] if os.geteuid() == 0 else ["--user", "--map-root-user", "--net"]
    argv = [unshare, *isolate, sys.executable, "-m", "monitord", "--lang", lang, "demo"]
    argv += ["--console-port", str(port)]
    if duration is not None:
        argv += ["--duration", str(duration)]
    if state_dir is not None:
        argv += ["--state-dir", str(state_dir)]
    try:
        sock = socket.create_server(("127.0.0.1", port))
    except OSError:  # taken (another demo?): any free port will do, the banner says which
        sock = socket.create_server(("127.0.0.1", 0))
    env = {**os.environ, _IN_NAMESPACE: "1", _CONSOLE_FD: str(sock.fileno())}
    try:
        with sock:
            return subprocess.run(argv, env=env, pass_fds=(sock.fileno(),), check=False).returncode
    except KeyboardInterrupt:
        return 130


def _write_config(workdir: Path, url: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "include": [str(_seed_contracts() / "*.yaml")],
        "state_dir": str(workdir),
        "icmp_mode": "raw",
        "metrics": {"listen": "127.0.0.1", "port": 0},
        # The API (no tokens: it answers nobody) carries the console; plain http on loopback.
        "api": {"enabled": True, "listen": "127.0.0.1", "base_url": url},
        "console": {"enabled": True, "secure_cookies": False},
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


def _add_accounts(config_path: Path) -> dict[str, str]:
    """The demo's console users with fresh random passwords: name -> password."""
    from monitord.clock import SystemClock
    from monitord.console.accounts import Accounts, Role

    config = load(config_path)
    store = Store.open(config.database_url)
    accounts, now, made = Accounts(store, config.console), SystemClock().now(), {}
    try:
        for name in _ACCOUNTS:
            made[name] = secrets.token_urlsafe(12)
            customer = name == "customer"
            accounts.add(name, Role(name), made[name], now, contract=str(_SITE["contract"])
                         if customer else None, sites=[str(_SITE["id"])] if customer else [])  # fmt: skip
    finally:
        store.close()
    return made


def _console_banner(url: str, passwords: dict[str, str], lang: str) -> str:
    def w(key: str) -> str:
        return i18n.word(i18n.CONSOLE, key, lang)

    lines = [f"\n{w('demo_open')} {url}/console/", w("demo_accounts")]
    lines += [f"  {name:<11} {passwords[name]:<18} {w('demo_' + name)}" for name in _ACCOUNTS]
    return "\n".join(lines)


async def _run(
    config_path: Path, duration: float | None, sock: socket.socket, url: str, lang: str
) -> None:
    from monitord.app import Daemon

    daemon = Daemon(config_path, load(config_path), api_socket=sock)
    started = asyncio.Event()
    task = asyncio.create_task(daemon.run(ready=started.set))
    await started.wait()
    passwords = await asyncio.to_thread(_add_accounts, config_path)
    print(_console_banner(url, passwords, lang), flush=True)
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
@click.option(
    "--console-port",
    type=click.IntRange(0, 65535),
    default=8400,
    show_default=True,
    help="The web console's port on 127.0.0.1 (0: any free port).",
)
@click.pass_obj
def demo(obj: Context, duration: float | None, state_dir: Path | None, console_port: int) -> None:
    """Run the daemon on a built-in demo site: watch a camera fail and recover.

    It serves the web console too: open the address it prints and sign in with the demo
    accounts it prints."""
    sys.exit(run_demo(duration, state_dir, obj.lang, console_port))


COMMANDS = (demo,)
