"""The daemon delivers what the ticket desk queues; the CLI shows the outbox and tests a channel."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from monitord.app import Daemon
from monitord.cli import main
from monitord.config import Config
from monitord.inventory.archive import site_records
from monitord.notify.messages import Routing
from monitord.store import Store
from monitord.ticketing import tickets
from tests.peers.notify import Mailbox, free_port, smtp_server
from tests.support.notifylab import notify_data, scrape


async def wait_for(condition: Any, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_hotline_ticket_reaches_the_engineer_by_mail_once(tmp_path: Path) -> None:
    port = free_port()
    config = Config.model_validate(notify_data(tmp_path, port))
    mailbox = Mailbox()
    daemon = Daemon(tmp_path / "monitord.yaml", config)
    ready = asyncio.Event()
    with smtp_server(mailbox, port):
        running = asyncio.create_task(daemon.run(ready.set))
        await asyncio.wait_for(ready.wait(), 20)
        store = Store.open(config.database_url)
        try:
            store.devices.sync(site_records(config), [], dt.datetime.now(dt.UTC))
            ticket = await asyncio.to_thread(
                tickets.open_hotline,
                store,
                config.contracts[0],
                "s1",
                "customer-wang",
                "门口摄像头黑屏",
                dt.datetime.now(dt.UTC),
                messages=Routing.from_config(config),
            )
        finally:
            store.close()
        await wait_for(lambda: mailbox.received)
        await wait_for(
            lambda: b'monitord_notifications_sent_total{channel="mail"}' in scrape(daemon)
        )
        page = scrape(daemon).decode()
        daemon.stop()
        await asyncio.wait_for(running, 5)
    [(to, subject, _)] = mailbox.received
    assert to == "duty@example.com"
    assert f"#{ticket.id}" in subject and "热线报修" in subject
    assert 'monitord_notifications_sent_total{channel="mail"} 1.0' in page
    assert "monitord_outbox_oldest_pending_seconds" in page
    assert "monitord_notify_contract_unrouted{" not in page  # "*" covers every contract


def test_cli_outbox_and_notify_test(tmp_path: Path) -> None:
    port = free_port()
    data = notify_data(tmp_path, port)
    config_file = tmp_path / "monitord.yaml"
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    config = Config.model_validate(data)
    store = Store.open(config.database_url)
    store.upgrade()
    store.devices.sync(site_records(config), [], dt.datetime.now(dt.UTC))
    tickets.open_hotline(
        store, config.contracts[0], "s1", "wang", "gate camera dark",
        dt.datetime.now(dt.UTC), messages=Routing.from_config(config),
    )  # fmt: skip
    store.close()
    runner = CliRunner()

    def cli(*args: str) -> Any:
        return runner.invoke(main, ["-c", str(config_file), *args], catch_exceptions=False)

    shown = json.loads(cli("outbox", "--json").output)
    assert [(m["state"], m["recipient"], m["attempts"]) for m in shown] == [
        ("pending", "duty@example.com", 0)
    ]
    text = cli("--lang", "en", "outbox").output
    assert "pending" in text and "duty@example.com" in text
    assert cli("outbox", "--state", "failed", "--json").output.strip() == "[]"

    down = cli("notify", "test", "mail", "--to", "ops@example.com")
    assert down.exit_code == 1 and "transient failure" in down.output
    mailbox = Mailbox(refuse={"gone@example.com"})
    with smtp_server(mailbox, port):
        sent = cli("notify", "test", "mail", "--to", "ops@example.com")
        refused = cli("notify", "test", "mail", "--to", "gone@example.com")
    assert sent.exit_code == 0 and "sent" in sent.output
    assert refused.exit_code == 1 and "permanent failure" in refused.output
    assert [to for to, _, _ in mailbox.received] == ["ops@example.com"]
    assert cli("notify", "test", "nope").exit_code == 2

    # A hotline call taken with the CLI pages the same people; an acknowledgement pages none.
    opened = cli("ticket", "open", "--site", "s1", "--by", "li", "NVR beeping")
    assert opened.exit_code == 0, opened.output
    new_id = int(opened.output.split(":")[0].lstrip("#"))
    assert cli("ticket", "ack", str(new_id), "--by", "li").exit_code == 0
    rows = json.loads(cli("outbox", "--json").output)
    assert [r["ticket"] for r in rows] == [new_id, 1]


def test_a_call_taken_before_the_daemon_ever_ran(tmp_path: Path) -> None:
    """The store is new: `ticket open` starts the archive from the configuration itself."""
    data = notify_data(tmp_path, free_port())
    config_file = tmp_path / "monitord.yaml"
    config_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    runner = CliRunner()
    opened = runner.invoke(
        main,
        ["-c", str(config_file), "ticket", "open", "--site", "s1", "--by", "li", "NVR beeping"],
    )
    assert opened.exit_code == 0, opened.output
    store = Store.open(Config.model_validate(data).database_url)
    try:
        [ticket] = store.tickets.recent()
        assert (ticket.site_id, ticket.root_device) == ("s1", None)
        assert [s.id for s in store.devices.sites()] == ["s1"]
    finally:
        store.close()
