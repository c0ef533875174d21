"""Real SNMP peers for tests: net-snmp's snmpd and snmpsim, on 127.0.0.1 high ports.

`Snmpd(dir)` serves v2c community COMMUNITY and v3 user USER (SHA/AES); `Snmpsim(dir)` serves
one community per .snmprec file in tests/peers/snmpdata (switch1, nvr1, acs1). Both are context
managers with a `port`; the `snmpd` and `snmpsim` fixtures share one per test module.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

COMMUNITY = "s3cr3t-commun1ty"
USER, AUTH_KEY, PRIV_KEY = "monuser", "authpass-9f2k", "privpass-7h3j"
DATA = Path(__file__).resolve().parent / "snmpdata"


def snmpd_missing() -> str | None:
    missing = [t for t in ("snmpd", "snmpget", "snmptrap") if shutil.which(t) is None]
    return (
        f"missing net-snmp tools: {', '.join(missing)} (apt-get install snmpd snmp)"
        if missing
        else None
    )


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(
    port: int,
    community: str,
    tries: int = 50,
    host: str = "127.0.0.1",
    wrap: list[str] | None = None,
) -> bool:
    for _ in range(tries):
        done = subprocess.run(
            [
                *(wrap or []),
                "snmpget",
                "-v2c",
                "-c",
                community,
                "-t",
                "0.2",
                "-r",
                "0",
                f"{host}:{port}",
                "1.3.6.1.2.1.1.3.0",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            return True
        time.sleep(0.1)
    return False


class _Process:
    proc: subprocess.Popen[bytes] | None = None

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Snmpd(_Process):
    """snmpd in the foreground with only our configuration (-C), on 127.0.0.1:port."""

    def __init__(
        self,
        directory: Path,
        extra: str = "",
        port: int | None = None,
        keys: tuple[str, str] = (AUTH_KEY, PRIV_KEY),
    ) -> None:
        self.dir, self.extra, self.keys = directory, extra, keys
        self.port = port or free_udp_port()

    def __enter__(self) -> Self:
        self.start()
        return self

    def start(self) -> None:
        persist = self.dir / "snmpd-persist"
        persist.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "snmpd.conf"
        conf.write_text(
            "[snmp] mibs :\n"
            f"rocommunity {COMMUNITY} 127.0.0.1\n"
            f'createUser {USER} SHA "{self.keys[0]}" AES "{self.keys[1]}"\n'
            f"rouser {USER} priv\n"
            "sysName testagent\n" + self.extra,
            encoding="utf-8",
        )
        self.proc = subprocess.Popen(
            [
                "snmpd",
                "-f",
                "-C",
                "-Lf",
                str(self.dir / "snmpd.log"),
                "-c",
                str(conf),
                f"--persistentDir={persist}",
                f"udp:127.0.0.1:{self.port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not _answers(self.port, COMMUNITY):
            self.stop()
            raise RuntimeError(f"snmpd did not answer on port {self.port}")


_LAUNCHER = """
import sys, dbm, dbm.dumb, encodings.latin_1, encodings.ascii, encodings.utf_8, encodings.idna
import concurrent.futures.thread, concurrent.futures.process
from snmpsim.commands.responder import main
sys.exit(main())
"""


def snmpsim_missing() -> str | None:
    try:
        import pysmi  # noqa: F401
        import snmpsim  # noqa: F401
    except ImportError as exc:
        return f"snmpsim not installed: {exc}"
    return snmpd_missing()


class Snmpsim(_Process):
    """snmpsim serving `data` (one community per file). As root it drops to nobody.

    `host`, `port` and `netns`: another loopback address, a given port, inside a network
    namespace of the test's (one agent per switch address, as a site has)."""

    def __init__(
        self, directory: Path, data: Path = DATA, probe: str = "switch1", *,
        host: str = "127.0.0.1", port: int | None = None, netns: str | None = None,
    ) -> None:  # fmt: skip
        self.dir, self.data, self.probe = directory, data, probe  # probe: a community served
        self.host, self.port = host, port or free_udp_port()
        self.wrap = ["ip", "netns", "exec", netns] if netns else []

    def __enter__(self) -> Self:
        work = self.dir / "snmpsim"
        copy = work / "data"
        shutil.copytree(self.data, copy)
        cache = work / "cache"
        cache.mkdir()
        launcher = work / "run.py"
        launcher.write_text(_LAUNCHER, encoding="utf-8")
        args = [
            *self.wrap,
            sys.executable,
            str(launcher),
            f"--data-dir={copy}",
            f"--cache-dir={cache}",
            f"--agent-udpv4-endpoint={self.host}:{self.port}",
        ]
        if os.geteuid() == 0:
            # snmpsim insists on "dropping" to a named user when started as root. This Python
            # may live under /root (mode 700, pyenv), where `nobody` could not even import it,
            # so it "drops" to root: a loopback-only test peer, never the daemon.
            args += ["--process-user=root", "--process-group=root"]
        with (work / "out.log").open("wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        if not _answers(self.port, self.probe, tries=100, host=self.host, wrap=self.wrap):
            log = (work / "out.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"snmpsim did not answer on port {self.port}:\n{log}")
        return self


# --- pytest fixtures (imported by tests/conftest.py) ---


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    why = snmpd_missing()
    if why:
        pytest.skip(why)
    with Snmpd(tmp_path_factory.mktemp("snmpd")) as agent:
        yield agent


@pytest.fixture(scope="module")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpsim]:
    why = snmpsim_missing()
    if why:
        pytest.skip(why)
    with Snmpsim(tmp_path_factory.mktemp("snmpsim")) as sim:
        yield sim
