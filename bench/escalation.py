"""The escalation pass over many open tickets, beside the SLA clock pass over the same ones.

N unacknowledged class A tickets (hotline tickets on one contract, policy: on-call at
once, the service manager after 15 min, the department head after 45 min) in a real store
(a SQLite file by default, `--database URL` for PostgreSQL). Timed, on the same store:
  - the first escalation pass (reads every ticket's log),
  - a steady pass (nothing due: logs not read again),
  - the pass at 15 min (fires N steps, each an event + its messages in one transaction),
  - the reference: one SLA clock pass (TicketDesk.tick, every 30 s in the daemon).
Prints the figures and checks that each ticket got exactly one step.

    .venv/bin/python bench/escalation.py [--tickets 500] [--database URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitord import log
from monitord.clock import FakeClock
from monitord.config import Config
from monitord.config.contracts import TicketClass
from monitord.inventory.archive import site_records
from monitord.notify.escalator import Escalator
from monitord.notify.messages import Routing
from monitord.store import Store
from monitord.ticketing import tickets
from monitord.ticketing.desk import TicketDesk

T0 = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
CONTRACTS = Path(__file__).resolve().parent.parent / "config" / "contracts"


def config(database: str) -> Config:
    contracts = yaml.safe_load((CONTRACTS / "seed-000.yaml").read_text(encoding="utf-8"))
    people = [{"id": p, "name": p, "email": f"{p}@example.com"} for p in ("a", "b", "m", "h")]
    return Config.model_validate(
        {
            "database": database,
            "contracts": contracts["contracts"],
            "sites": [{"id": "s1", "name": "S1", "contract": "seed-000"}],
            "notify": {
                "channels": [{"type": "email", "name": "mail", "host": "h", "sender": "m@x"}],
                "oncall": {
                    "people": people,
                    "roles": {"*": {"manager": "m", "head": "h"}},
                    "rotations": [
                        {
                            "id": "r",
                            "contracts": ["seed-000"],
                            "start": "2026-06-01",
                            "people": ["a", "b"],
                        }
                    ],
                },
                "escalation": [
                    {
                        "id": "a",
                        "classes": ["A"],
                        "steps": [
                            {"targets": ["oncall"], "channels": ["mail"]},
                            {"after": "15m", "targets": ["role:manager"], "channels": ["mail"]},
                            {"after": "45m", "targets": ["role:head"], "channels": ["mail"]},
                        ],
                    }
                ],
            },
        }
    )


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    log.configure("error", json=False)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config(args.database or f"sqlite:///{tmp}/bench.db")
        store = Store.open(cfg.database_url)
        store.upgrade()
        store.devices.sync(site_records(cfg), [], T0)
        routing = Routing.from_config(cfg)
        for i in range(args.tickets):
            tickets.open_hotline(
                store, cfg.contracts[0], "s1", f"caller-{i}", "camera dark", T0,
                ticket_class=TicketClass.A, messages=routing,
            )  # fmt: skip
        escalator = Escalator(store, FakeClock(T0), lambda: routing)
        first, _ = timed(lambda: escalator.tick(T0 + dt.timedelta(minutes=1)))
        steady, _ = timed(lambda: escalator.tick(T0 + dt.timedelta(minutes=2)))
        firing, fired = timed(lambda: escalator.tick(T0 + dt.timedelta(minutes=15)))
        again = escalator.tick(T0 + dt.timedelta(minutes=16))
        desk = TicketDesk(store, FakeClock(T0), cfg, messages=Routing.from_config)
        sla, _ = timed(lambda: desk.tick(T0 + dt.timedelta(minutes=3)))
        messages = len(store.outbox.messages(limit=10 * args.tickets))
        store.close()
    n = args.tickets
    print(f"open class A tickets          {n}")
    print(f"first escalation pass         {first * 1000:8.1f} ms  (reads every log)")
    print(f"steady pass, nothing due      {steady * 1000:8.1f} ms")
    print(f"pass firing step 2            {firing * 1000:8.1f} ms  ({fired} steps fired)")
    print(f"reference: one SLA clock pass {sla * 1000:8.1f} ms")
    print(f"steps fired twice             {again}")
    print(f"messages in the outbox        {messages}  (expected {2 * n})")
    if fired != n or again != 0 or messages != 2 * n:
        sys.exit("escalation fired wrongly")


if __name__ == "__main__":
    main()
