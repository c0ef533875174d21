"""One-time sign-in links in the pages sent to an engineer: the mail carries one, the
database only its hash; opening it (GET, as a link pre-fetcher does) never acts nor uses it;
one POST with the page's CSRF token signs in and acknowledges; used or expired: refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select

from monitord.app import Daemon
from monitord.config import Config
from monitord.console.accounts import Accounts, Role, digest
from monitord.console.links import Links
from monitord.console.web import COOKIE
from monitord.inventory.archive import site_records
from monitord.notify.messages import Routing
from monitord.store import Store
from monitord.store.schema import ConsoleLinkRow, OutboxRow
from monitord.ticketing import tickets
from tests.integration.test_notify_daemon import wait_for
from tests.peers.notify import Mailbox, free_port, smtp_server
from tests.support.consolelab import PASSWORD, ConsoleLab, csrf_of
from tests.support.notifylab import notify_data

LINK = re.compile(r"(http://127\.0\.0\.1:\d+)(/console/t/([\w-]{43}))")


async def test_the_mail_to_an_engineer_carries_a_one_time_link_stored_only_hashed(
    tmp_path: Path,
) -> None:
    port, web = free_port(), free_port()
    data = notify_data(tmp_path, port)
    data["notify"]["recipients"] = {"*": [{"channel": "mail", "to": "li@example.com",
                                           "console_user": "li"}]}  # fmt: skip
    data["api"] = {"enabled": True, "port": web, "base_url": f"http://127.0.0.1:{web}"}
    data["console"] = {"enabled": True, "secure_cookies": False}
    config = Config.model_validate(data)
    mailbox = Mailbox()
    daemon = Daemon(tmp_path / "monitord.yaml", config)
    ready = asyncio.Event()
    with smtp_server(mailbox, port):
        running = asyncio.create_task(daemon.run(ready.set))
        await asyncio.wait_for(ready.wait(), 20)
        store = Store.open(config.database_url)
        now = dt.datetime.now(dt.UTC)
        Accounts(store, config.console).add("li", Role.ENGINEER, PASSWORD, now, "Li Gong")
        store.devices.sync(site_records(config), [], now)
        ticket = tickets.open_hotline(store, config.contracts[0], "s1", "customer-wang",
                                      "门口摄像头黑屏", now, messages=Routing.from_config(config))  # fmt: skip
        await wait_for(lambda: mailbox.bodies)
        found = LINK.search(mailbox.bodies[0])
        assert found, mailbox.bodies[0]
        token = found.group(3)
        engine = create_engine(config.database_url)
        with engine.connect() as db:
            stored = [r.body for r in db.execute(select(OutboxRow))]
            hashes = [r.token_hash for r in db.execute(select(ConsoleLinkRow))]
        engine.dispose()
        assert stored and all(token not in body for body in stored)
        assert any(f"{{signin:li:{ticket.id}}}" in body for body in stored)
        assert hashes == [digest(token)]
        async with httpx.AsyncClient(base_url=found.group(1)) as phone:
            shown = await phone.get(found.group(2))
            assert shown.status_code == 200 and "Li Gong" in shown.text
            acked = await phone.post(found.group(2), data={"csrf": csrf_of(shown.text),
                                                           "action": "ack"})  # fmt: skip
            assert acked.status_code == 303
        store.close()
        daemon.stop()
        await asyncio.wait_for(running, 5)
    store = Store.open(config.database_url)
    assert store.tickets.get(ticket.id)[0].status == "acknowledged"  # type: ignore[index]
    store.close()


def links(console: ConsoleLab) -> Links:
    return Links(console.store, console.config.console, console.clock.now)


async def test_a_get_shows_the_ticket_and_never_acts_one_post_acknowledges(
    console: ConsoleLab,
) -> None:
    ticket = await console.down("nvr")
    path = links(console).mint("eng", ticket)
    assert path is not None
    prefetcher, phone = console.browser(), console.browser()
    pages = {}
    for client in (prefetcher, phone, phone):  # a chat app's preview, then the engineer
        shown = pages[client] = await client.get(path)
        assert shown.status_code == 200 and "button" in shown.text
        assert shown.headers["referrer-policy"] == "no-referrer"
    assert console.store.tickets.get(ticket)[0].status == "open"  # type: ignore[index]
    assert (await phone.get("/console/mine")).status_code == 303  # not signed in by a GET
    forged = await phone.post(path, data={"csrf": "guess", "action": "ack"})
    assert forged.status_code == 403
    acked = await phone.post(path, data={"csrf": csrf_of(shown.text), "action": "ack"})
    assert acked.status_code == 303
    assert acked.headers["location"] == f"/console/tickets/{ticket}?done=done"
    last = console.store.tickets.events(ticket)[-1]
    assert (last.kind, last.by, last.data["via"]) == ("acknowledged", "eng", "link")
    assert (await phone.get("/console/mine")).status_code == 200  # signed in as eng
    # Used: refused, by GET and by a POST with a valid form (the pre-fetcher's).
    reuse = await prefetcher.post(path, data={"csrf": csrf_of(pages[prefetcher].text),
                                              "action": "open"})  # fmt: skip
    assert reuse.status_code == 410 and COOKIE not in prefetcher.cookies
    assert (await prefetcher.get(path)).status_code == 410


async def test_an_expired_link_is_refused_and_a_customer_link_never_acknowledges(
    console: ConsoleLab,
) -> None:
    ticket = await console.down("nvr")
    stale = links(console).mint("eng", ticket)
    assert stale is not None
    client = console.browser()
    form = await client.get(stale)
    await console.clock.advance(console.config.console.link_ttl.total_seconds() + 1)
    assert (await client.get(stale)).status_code == 410
    late = await client.post(stale, data={"csrf": csrf_of(form.text), "action": "ack"})
    assert late.status_code == 410
    assert links(console).mint("nobody", ticket) is None
    customer = links(console).mint("cust-a", ticket)
    assert customer is not None
    page = await client.get(customer)
    assert 'value="ack"' not in page.text
    await client.post(customer, data={"csrf": csrf_of(page.text), "action": "ack"})
    assert console.store.tickets.get(ticket)[0].status == "open"  # type: ignore[index]
