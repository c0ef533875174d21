"""SIGKILL the daemon at random moments while it delivers: no message lost, and a message
repeated at most once per crash that caught it in flight, counted.

The outbox is filled before the daemon starts: single messages (no ticket) and storms of
ticket messages at several sites (grouped into one mail per site). A slow SMTP server
(aiosmtpd) on loopback receives them; the daemon is killed 5-8 times, half the kills the
instant a mail arrives (the server has it, the daemon has not recorded it: the narrowest
window there is), half at a random instant; then the last daemon finishes. A mail's
Message-ID is derived from its (group's) idempotency key, so every repeat is seen. After
each kill the rows left claimed (`sending`) are what that crash caught; a message may be
repeated once for each of those crashes and never more. (Once per message overall cannot be
promised: SMTP has no idempotency, and a kill aimed at the instant the re-sent copy arrives
makes a third copy. The kills "after a mail" below do exactly that, often.)

The seed is random per run and printed in every assertion; MONITORD_KILL_SEED replays it.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from monitord.config import Config
from monitord.inventory.archive import site_records
from monitord.store import Store
from monitord.store.records import OutboxRecord, TicketEventRecord, TicketRecord
from tests.peers.notify import Mailbox, free_port, message_id, smtp_server
from tests.support.daemon import DaemonProcess
from tests.support.notifylab import notify_data

SINGLES, SITES, PER_SITE = 150, 6, 25
KILLS = (5, 8)
SETTLE = 60.0


def fill(store: Store, config: Config, now: dt.datetime) -> None:
    store.devices.sync(site_records(config), [], now)
    store.outbox.enqueue(
        [OutboxRecord("mail", f"p{i}@example.com", f"single {i}", "b", key=f"single/{i}")
         for i in range(SINGLES)],
        now,
    )  # fmt: skip
    for s in range(SITES):
        for n in range(PER_SITE):
            ticket = TicketRecord(
                0, f"seed-000/hotline-{s}-{n}", "seed-000", f"s{s}", None, "hotline", "A",
                "manual", "open", False, False, f"site {s} fault {n}", (), now, now, 0,
            )  # fmt: skip
            opened = TicketEventRecord(0, 0, now, "opened", "monitord", "", {})
            subject = f"[class A] Ticket s{s}-{n} opened"
            store.tickets.open(
                ticket, opened, [OutboxRecord("mail", "duty@example.com", subject, "b")]
            )


def test_sigkill_during_delivery_loses_nothing_and_repeats_at_most_once(tmp_path: Path) -> None:
    seed = int(os.environ.get("MONITORD_KILL_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    port = free_port()
    data = notify_data(tmp_path, port)
    data["sites"] = [
        {"id": f"s{s}", "name": f"Site {s}", "zone": "city", "contract": "seed-000"}
        for s in range(SITES)
    ]
    # A short lease (one round of 50 sends, each within the 5 s timeout: 10 s) so a crashed
    # run's claims come back within the test; the timeout is long enough that a busy machine
    # does not time a send out after the server has the mail (a repeat without any crash).
    data["notify"] |= {"concurrency": 50, "lease": "2s", "grouping": {"wait": {"A": "1s"}}}
    data["notify"]["channels"][0]["timeout"] = 5
    path = tmp_path / "monitord.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    config = Config.model_validate(data)
    store = Store.open(config.database_url)
    mailbox = Mailbox(delay=0.02)
    kills: list[str] = []
    exposed: Counter[str] = Counter()  # message -> crashes that caught it claimed
    why = f"seed {seed} (replay: MONITORD_KILL_SEED={seed})"
    try:
        store.upgrade()
        fill(store, config, dt.datetime.now(dt.UTC))
        rows = len(store.outbox.messages(limit=10_000))
        with smtp_server(mailbox, port):
            daemon = DaemonProcess(path)
            for _ in range(rng.randint(*KILLS)):
                daemon.started()
                if rng.random() < 0.5:
                    seen, deadline = len(mailbox.received), time.monotonic() + 10
                    while len(mailbox.received) == seen and time.monotonic() < deadline:
                        time.sleep(0.001)
                    kills.append(f"after mail {len(mailbox.received)}")
                else:
                    time.sleep(rng.uniform(0.0, 2.0))
                    kills.append(f"at mail {len(mailbox.received)}")
                daemon.signal(signal.SIGKILL)
                daemon.proc.wait(timeout=10)
                caught = store.outbox.messages(states=["sending"], limit=10_000)
                exposed.update({message_id(m.group_key or "") for m in caught})
                daemon = DaemonProcess(path)
            why += f", kills {kills}"
            deadline = time.monotonic() + SETTLE
            while time.monotonic() < deadline:
                if {m.state for m in store.outbox.messages(limit=10_000)} == {"sent"}:
                    break
                time.sleep(0.5)
            time.sleep(1)  # stragglers would show now
            daemon.started()  # the last restart may still be starting: SIGTERM before its handler kills it
            assert daemon.stop() == 0, f"{why}\n{daemon.tail()}"
    finally:
        final = store.outbox.messages(limit=10_000)
        store.close()

    assert len(final) == rows == SINGLES + SITES * PER_SITE
    unsent = [m.idempotency_key for m in final if m.state != "sent"]
    assert not unsent, f"{why}: never sent: {unsent[:10]}"
    received = Counter(mid for _, _, mid in mailbox.received)
    lost = [m.idempotency_key for m in final if message_id(m.group_key or "") not in received]
    assert not lost, f"{why}: recorded as sent, never received: {lost[:10]}"
    duplicates = {mid: n - 1 for mid, n in received.items() if n > 1}
    figures = (
        f"{why}: {rows} rows, {len(received)} mails, {sum(duplicates.values())} duplicates, "
        f"{sum(exposed.values())} claims caught by a kill"
    )
    sys.stderr.write(f"\n{figures}\n")  # shown with -s: the counts, not just their bounds
    beyond = {mid: (n, exposed[mid]) for mid, n in duplicates.items() if n > exposed[mid]}
    assert not beyond, f"{figures}: repeated more often than crashes caught it: {beyond}"
    # Each site's storm went out grouped: far fewer mails than rows.
    assert len(received) < SINGLES + SITES * PER_SITE / 2, figures
