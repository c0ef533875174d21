"""The daemon pages the on-call engineer, escalates, and stops on acknowledgement.

Real peers on loopback: a generic SMS gateway (an HTTP server), another HTTP server for the
WeCom group bot, aiosmtpd for mail. The daemon runs on an injected clock that the test
moves; the peers and the database are real.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from monitord.app import Daemon
from monitord.clock import FakeClock
from monitord.config import Config
from monitord.config.contracts import TicketClass
from monitord.inventory.archive import site_records
from monitord.notify.messages import Routing
from monitord.store import Store
from monitord.store.records import TicketRecord
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind
from tests.peers.notify import Hook, Mailbox, free_port, http_server, smtp_server
from tests.support.notifylab import scrape
from tests.support.ticketlab import config_data

START = dt.datetime(2026, 6, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai: zhang's shift
PHONES = {"zhang": "+8613800000001", "wang": "+8613800000003", "zhao": "+8613800000004"}


def daemon_config(tmp_path: Path, sms: str, chat: str, smtp_port: int) -> Config:
    data = config_data(f"sqlite:///{tmp_path / 'monitord.db'}", "city")
    data |= {"devices": [], "state_dir": str(tmp_path), "metrics": {"port": 0}}
    # Two sites, so the two tickets' pages are not one storm group (notify/grouping.py).
    sites = cast(list[Any], data["sites"])
    data["sites"] = [*sites, {"id": "s2", "name": "Site 2", "contract": "seed-000"}]
    loopback = ["127.0.0.1/32"]
    people = [
        {"id": "zhang", "name": "张伟", "phone": PHONES["zhang"], "chat": "zhangwei"},
        {"id": "wang", "name": "王强", "phone": PHONES["wang"], "email": "wang@example.com",
         "language": "en"},
        {"id": "zhao", "name": "赵敏", "phone": PHONES["zhao"]},
    ]  # fmt: skip
    data["notify"] = {
        "channels": [
            {"type": "sms", "name": "sms", "url": f"{sms}/send", "timeout": 5,
             "allow_addresses": loopback},
            {"type": "webhook", "name": "chat", "url": f"{chat}/cgi-bin/webhook/send?key=k",
             "format": "wecom", "timeout": 5, "allow_addresses": loopback},
            {"type": "email", "name": "mail", "host": "127.0.0.1", "port": smtp_port,
             "security": "none", "sender": "monitord@example.com", "timeout": 5},
        ],
        "oncall": {
            "people": people,
            "roles": {"*": {"service_manager": "wang", "department_head": "zhao"}},
            "rotations": [{"id": "duty", "contracts": ["seed-000"], "handover": "weekly",
                           "start": "2026-06-01", "people": ["zhang", "wang"]}],
        },
        "escalation": [{"id": "class-a", "classes": ["A"], "steps": [
            {"after": "0s", "targets": ["oncall"], "channels": ["sms", "chat"]},
            {"after": "15m", "targets": ["role:service_manager"], "channels": ["sms", "mail"]},
            {"after": "45m", "targets": ["role:department_head"], "channels": ["sms"]},
        ]}],
    }  # fmt: skip
    return Config.model_validate(data)


def paged(hook: Hook) -> list[tuple[int, str]]:
    """(ticket, recipient) of each request the peer accepted, from the idempotency key."""
    out = []
    for _, headers, _ in hook.requests:
        ticket, _, _, recipient = headers["Idempotency-Key"].split("/", 3)
        out.append((int(ticket), recipient))
    return out


async def run_until(clock: FakeClock, condition: Callable[[], bool], step: float = 1.0) -> float:
    """Move the injected clock `step` seconds at a time until `condition`; the real seconds."""
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < 30, "timed out"
        await clock.advance(step)
        await asyncio.sleep(0.02)  # the daemon's threads (store, HTTP) run in real time
    return time.monotonic() - began


async def test_a_class_a_ticket_pages_on_call_escalates_and_stops_on_ack(tmp_path: Path) -> None:
    sms, chat = Hook(), Hook(reply={"errcode": 0, "errmsg": "ok"})
    mailbox, smtp_port = Mailbox(), free_port()
    with http_server(sms) as sms_url, http_server(chat) as chat_url:
        config = daemon_config(tmp_path, sms_url, chat_url, smtp_port)
        clock = FakeClock(START)
        daemon = Daemon(tmp_path / "monitord.yaml", config, clock)
        ready = asyncio.Event()
        with smtp_server(mailbox, smtp_port):
            running = asyncio.create_task(daemon.run(ready.set))
            await asyncio.wait_for(ready.wait(), 20)
            store = Store.open(config.database_url)
            try:
                await _scenario(store, config, clock, sms, chat, mailbox)
                page = scrape(daemon).decode()
            finally:
                store.close()
                daemon.stop()
                await asyncio.wait_for(running, 10)
    assert 'monitord_escalations_fired_total{policy="class-a",step="2"} 2.0' in page
    assert 'monitord_escalations_fired_total{policy="class-a",step="3"} 1.0' in page


async def _scenario(
    store: Store, config: Config, clock: FakeClock, sms: Hook, chat: Hook, mailbox: Mailbox
) -> None:
    store.devices.sync(site_records(config), [], clock.now())
    routing = Routing.from_config(config)

    def open_a(site: str, text: str) -> TicketRecord:
        return tickets.open_hotline(
            store, config.contracts[0], site, f"caller-{site}", text, clock.now(),
            ticket_class=TicketClass.A, messages=routing,
        )  # fmt: skip

    first = await asyncio.to_thread(open_a, "s1", "大门摄像头全黑")
    second = await asyncio.to_thread(open_a, "s2", "机房 NVR 无录像")  # never acknowledged
    opened = clock.now()
    # Within seconds (of the daemon's clock, and of real time): SMS and chat to zhang. The
    # bound allows for storm grouping's wait (3 s for class A) and the dispatcher's idle pass.
    real = await run_until(clock, lambda: len(paged(sms)) == 2 and len(paged(chat)) == 2, step=0.5)
    assert clock.now() - opened <= dt.timedelta(seconds=10) and real < 10
    assert sorted(paged(sms)) == [(first.id, PHONES["zhang"]), (second.id, PHONES["zhang"])]
    assert {recipient for _, recipient in paged(chat)} == {"zhangwei"}
    assert "大门摄像头全黑" in str([body for _, _, body in chat.requests])
    # The engineer is @-mentioned in the group (WeCom's mentioned_list), so the phone rings.
    assert [body["text"]["mentioned_list"] for _, _, body in chat.requests] == [["zhangwei"]] * 2
    assert {body["to"] for _, _, body in sms.requests} == {PHONES["zhang"]}
    assert all(len(body["text"]) <= 140 for _, _, body in sms.requests)  # one SMS each
    assert mailbox.received == []

    # 15 minutes without an acknowledgement: the service manager, by SMS and mail.
    await clock.advance(15 * 60 - 10)
    await run_until(clock, lambda: len(mailbox.received) == 2, step=0.5)
    # The pass runs every 5 s; the test moves the clock faster than the daemon's threads
    # run, so a few seconds more may pass on the injected clock.
    fired = [e.at - opened for e in store.tickets.events(first.id) if e.kind == "escalated"]
    assert len(fired) == 1 and 900 <= fired[0].total_seconds() <= 920
    assert clock.now() - opened <= dt.timedelta(minutes=15, seconds=30)
    assert sorted(paged(sms)[2:]) == [(first.id, PHONES["wang"]), (second.id, PHONES["wang"])]
    subjects = sorted(subject for _, subject, _ in mailbox.received)
    assert subjects[0].startswith(f"[class A] Ticket #{first.id} not acknowledged: escalation")

    # Zhang acknowledges the first ticket; at 45 minutes only the second reaches the head.
    await asyncio.to_thread(
        tickets.append, store, first.id, EventKind.ACKNOWLEDGED, "zhang", clock.now()
    )
    await clock.advance(30 * 60 - 10)
    await run_until(clock, lambda: len(paged(sms)) == 5)
    await run_until(clock, lambda: clock.now() - opened >= dt.timedelta(hours=2), step=60)
    assert paged(sms)[4:] == [(second.id, PHONES["zhao"])]
    kinds = [e.kind for e in store.tickets.events(first.id)]
    assert kinds == ["opened", "escalated", "acknowledged"]


async def test_quiet_hours_hold_a_class_c_message_until_morning_then_send_it(
    tmp_path: Path,
) -> None:
    sms, chat = Hook(), Hook(reply={"errcode": 0, "errmsg": "ok"})
    night = dt.datetime(2026, 6, 2, 15, 0, tzinfo=dt.UTC)  # 23:00 in Shanghai
    morning = dt.datetime(2026, 6, 2, 23, 0, tzinfo=dt.UTC)  # 07:00
    with http_server(sms) as sms_url, http_server(chat) as chat_url:
        config = daemon_config(tmp_path, sms_url, chat_url, free_port())
        notify = config.notify.model_dump(by_alias=True)
        notify |= {
            "quiet_hours": [{"from": "22:00", "until": "07:00"}],
            "recipients": {"*": [{"channel": "chat", "language": "en"}]},
        }
        config = Config.model_validate(config.model_dump(by_alias=True) | {"notify": notify})
        clock = FakeClock(night)
        daemon = Daemon(tmp_path / "monitord.yaml", config, clock)
        ready = asyncio.Event()
        running = asyncio.create_task(daemon.run(ready.set))
        await asyncio.wait_for(ready.wait(), 20)
        store = Store.open(config.database_url)
        try:
            store.devices.sync(site_records(config), [], clock.now())
            routing = Routing.from_config(config)
            for site, cls in (("s1", TicketClass.C), ("s2", TicketClass.A)):
                await asyncio.to_thread(
                    tickets.open_hotline, store, config.contracts[0], site, f"caller-{site}",
                    f"class {cls.value} at night", clock.now(), ticket_class=cls,
                    messages=routing,
                )  # fmt: skip

            def texts() -> list[str]:
                return [body["text"]["content"] for _, _, body in chat.requests]

            # A goes out at once (the group's message and the on-call's mention); C waits.
            await run_until(clock, lambda: len(texts()) == 2, step=0.5)
            assert all("class A at night" in t for t in texts())
            await asyncio.to_thread(
                tickets.append, store, 2, EventKind.ACKNOWLEDGED, "zhang", clock.now()
            )
            await clock.advance((morning - clock.now()).total_seconds() - 60)
            await run_until(clock, lambda: clock.now() >= morning - dt.timedelta(seconds=5))
            assert len(texts()) == 2  # still night: held
            await run_until(clock, lambda: len(texts()) == 3)
            assert "class C at night" in texts()[2]
            assert morning <= clock.now() <= morning + dt.timedelta(minutes=2)
        finally:
            store.close()
            daemon.stop()
            await asyncio.wait_for(running, 10)
