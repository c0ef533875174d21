"""SNMP polling cost: N devices polled like the daemon does (system group, watched ports,
PoE and sensor walks for a switch), against a real agent on 127.0.0.1.

Each device is a separate target on the agent (snmpd by default, or snmpsim serving
tests/peers/snmpdata/switch1.snmprec with --agent snmpsim). Prints polls/s, SNMP requests/s, CPU
per request and per poll, timeouts, RSS, and the share of one core that 2 000 devices
polled every 60 s would take.

For v3 it also counts pysnmp's password-to-key runs (1 MB of hashing each) and key
localisations over the whole run, warm-up included: they should be once per credential set
and once per engine id, not per request (the engine and its USM table are kept by
SnmpClient; checks/snmp/auth.py builds each credential set's auth object once).

With ezsnmp importable (net-snmp's C library; `apt-get install libsnmp-dev && pip install
ezsnmp`, not a dependency of monitord), the same requests are then sent through it, one
after the other, as the reference measured in the same run.

    .venv/bin/python bench/snmp_poll.py --devices 500 --rounds 5 [--v3] [--agent snmpsim] [--tables-every 1]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import SecretStr

from monitord.checks.snmp import oids as O
from monitord.checks.snmp import wire as snmp_wire
from monitord.checks.snmp.client import Credentials, SnmpClient, Target
from tests.peers.snmp import AUTH_KEY, COMMUNITY, PRIV_KEY, USER, Snmpd, Snmpsim


def count_key_work() -> dict[str, int]:
    """Count pysnmp's password-to-key hashing and key localisation (every auth/priv
    protocol goes through these two)."""
    from pysnmp.proto.secmod.rfc3414 import localkey

    counts = {"hash_passphrase": 0, "localize_key": 0}
    for name in counts:
        original = getattr(localkey, name)

        def counted(*args: Any, _original: Any = original, _name: str = name) -> Any:
            counts[_name] += 1
            return _original(*args)

        setattr(localkey, name, counted)
    return counts


def count_requests() -> list[int]:
    """Count GET and GETBULK requests by wrapping the probe's two senders."""
    sent = [0]
    for name in ("get", "bulk"):
        original = getattr(snmp_wire, name)

        async def counted(*args: Any, _original: Any = original) -> Any:
            sent[0] += 1
            return await _original(*args)

        setattr(snmp_wire, name, counted)
    return sent


async def run(port: int, community: str, args: argparse.Namespace) -> None:
    if args.v3:
        creds = Credentials(
            "3", user=USER, auth_key=SecretStr(AUTH_KEY), priv_key=SecretStr(PRIV_KEY)
        )
    else:
        creds = Credentials("2c", community=SecretStr(community))
    plan = O.plan_for("switch", (1, 2))
    sent = count_requests()
    keys = count_key_work()
    client = SnmpClient()
    slots = asyncio.Semaphore(args.in_flight)
    timeouts = errors = polls = 0

    scalars_only = O.FetchPlan(plan.scalars, ())

    async def poll(turn: int) -> None:
        nonlocal timeouts, errors, polls
        async with slots:
            t = Target("127.0.0.1", port, creds, timeout=args.timeout, retries=0)
            # Like the daemon: tables (PoE, sensors) on every Nth poll only.
            reading = await client.fetch(t, scalars_only if turn % args.tables_every else plan)
        polls += 1
        if reading.error is not None:
            timeouts += reading.error.kind == "timeout"
            errors += reading.error.kind != "timeout"

    await poll(0)  # open the socket and discover the v3 engine outside the measurement
    polls = 0
    sent[0] = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for turn in range(args.rounds):
        await asyncio.gather(*(poll(turn) for _ in range(args.devices)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    client.close()
    requests = sent[0]
    per_poll = requests / polls
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    share = 2000 * per_poll * (cpu / requests) / 60
    print(
        f"agent={args.agent} version={'3 authPriv' if args.v3 else '2c'} devices={args.devices} "
        f"rounds={args.rounds} in_flight={args.in_flight}"
    )
    print(
        f"polls={polls} ({polls / wall:.0f}/s)  requests={requests} ({requests / wall:.0f}/s, "
        f"{per_poll:.1f} per poll)"
    )
    print(f"CPU per request {cpu / requests * 1e6:.0f} us, per poll {cpu / polls * 1e3:.2f} ms")
    print(f"timeouts={timeouts} other errors={errors}  max RSS {rss:.0f} MiB")
    print(f"2000 devices every 60 s: {share * 100:.1f}% of one core")
    if args.v3:
        print(
            f"v3 keys over the run: password-to-key {keys['hash_passphrase']}, "
            f"localisations {keys['localize_key']} (one agent: one engine id)"
        )
    reference(port, community, args, plan)


def reference(port: int, community: str, args: argparse.Namespace, plan: O.FetchPlan) -> None:
    """The same polls through ezsnmp (C, blocking, sequential): CPU per request and share."""
    try:
        from ezsnmp import Session  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        print("reference: ezsnmp not installed (see the module docstring)")
        return
    common: dict[str, Any] = {
        "hostname": "127.0.0.1",
        "port_number": port,
        "retries": 0,
        "timeout": int(args.timeout),
        "print_oids_numerically": True,
    }
    if args.v3:
        session = Session(version=3, security_level="authPriv", security_username=USER,
                          auth_protocol="SHA", auth_passphrase=AUTH_KEY, privacy_protocol="AES",
                          privacy_passphrase=PRIV_KEY, **common)  # fmt: skip
    else:
        session = Session(version=2, community=community, **common)
    requests = polls = 0
    cpu0 = time.process_time()
    for turn in range(args.rounds):
        for _ in range(args.devices):
            session.get(list(plan.scalars))
            requests += 1
            if turn % args.tables_every == 0:
                for walk in plan.walks:
                    session.bulk_walk([walk.column])
                    requests += 1
            polls += 1
    cpu = time.process_time() - cpu0
    share = 2000 * (requests / polls) * (cpu / requests) / 60
    print(
        f"reference ezsnmp: polls={polls} requests={requests}  CPU per request "
        f"{cpu / requests * 1e6:.0f} us, per poll {cpu / polls * 1e3:.2f} ms; "
        f"2000 devices every 60 s: {share * 100:.1f}% of one core"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--devices", type=int, default=500)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--in-flight", type=int, default=50)
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--tables-every", type=int, default=5)
    p.add_argument("--agent", choices=["snmpd", "snmpsim"], default="snmpd")
    p.add_argument("--v3", action="store_true")
    args = p.parse_args()
    if args.v3 and args.agent == "snmpsim":
        p.error("--v3 needs --agent snmpd (the test snmpsim has no v3 user)")
    with tempfile.TemporaryDirectory() as d:
        if args.agent == "snmpd":
            with Snmpd(Path(d)) as agent:
                asyncio.run(run(agent.port, COMMUNITY, args))
        else:
            with Snmpsim(Path(d)) as sim:
                asyncio.run(run(sim.port, "switch1", args))


if __name__ == "__main__":
    main()
