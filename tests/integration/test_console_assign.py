"""A dispatcher assigns a ticket to an engineer: an `assigned` event in the log (by whom,
to whom), the ticket in that engineer's "Mine" and no longer in another's, the engineer
notified with their one-time link; the ticket list's filters."""

from __future__ import annotations

from monitord.config import Config
from monitord.console.accounts import Accounts, Role
from tests.support.consolelab import PASSWORD, ConsoleLab, csrf_of

PEOPLE = {
    "channels": [{"type": "email", "name": "mail", "host": "127.0.0.1", "port": 2525,
                  "security": "none", "sender": "monitord@example.com"}],
    "oncall": {"people": [{"id": "zhao", "name": "赵工", "email": "zhao@example.com",
                           "console_user": "eng2"}]},
}  # fmt: skip


async def test_a_dispatcher_assigns_and_the_engineer_sees_it_and_is_told(
    console: ConsoleLab,
) -> None:
    data = console.config.model_dump(by_alias=True, mode="json", exclude_none=True)
    data["notify"] = {**data["notify"], **PEOPLE}
    console.config = Config.model_validate(data)
    Accounts(console.store, console.config.console).add(
        "eng2", Role.ENGINEER, PASSWORD, console.clock.now(), "Zhao Gong"
    )
    ticket = await console.down("nvr")
    disp, eng, eng2 = [await console.sign_in(n) for n in ("disp", "eng", "eng2")]
    assert f"/console/tickets/{ticket}" in (await eng.get("/console/mine")).text  # free work
    page = await disp.get(f"/console/tickets/{ticket}")
    assert 'value="eng2"' in page.text and 'value="cust-a"' not in page.text
    bogus = await disp.post(f"/console/tickets/{ticket}/assign",
                            data={"csrf": csrf_of(page.text), "engineer": "cust-a"})  # fmt: skip
    assert bogus.status_code == 422
    done = await disp.post(f"/console/tickets/{ticket}/assign",
                           data={"csrf": csrf_of(page.text), "engineer": "eng2"})  # fmt: skip
    assert done.headers["location"] == f"/console/tickets/{ticket}?done=assigned"
    last = console.store.tickets.events(ticket)[-1]
    assert (last.kind, last.by, last.data["engineer"]) == ("assigned", "disp", "eng2")
    assert console.store.tickets.get(ticket)[0].status == "open"  # type: ignore[index]
    assert f"/console/tickets/{ticket}" in (await eng2.get("/console/mine")).text
    assert f"/console/tickets/{ticket}" not in (await eng.get("/console/mine")).text
    [told] = [m for m in console.store.outbox.messages() if m.recipient == "zhao@example.com"]
    assert "已派给您" in told.subject and f"{{signin:eng2:{ticket}}}" in told.body
    shown = await disp.get(f"/console/tickets/{ticket}")
    assert 'id="assignee">eng2<' in shown.text
    engineer_page = await eng.get(f"/console/tickets/{ticket}")
    forged = await eng.post(f"/console/tickets/{ticket}/assign",
                            data={"csrf": csrf_of(engineer_page.text), "engineer": "eng"})  # fmt: skip
    assert forged.status_code == 403


async def test_the_ticket_list_filters_by_site_class_and_status(console: ConsoleLab) -> None:
    ours, theirs = await console.down("nvr"), await console.down("cam-x")
    disp = await console.sign_in("disp")

    async def listed(query: str) -> set[int]:
        text = (await disp.get(f"/console/tickets{query}")).text
        return {t for t in (ours, theirs) if f'href="/console/tickets/{t}"' in text}

    assert await listed("") == {ours, theirs}
    assert await listed("?site=s1") == {ours}
    assert await listed("?site=s2") == {theirs}
    cls = console.store.tickets.get(ours)[0].ticket_class  # type: ignore[index]
    other = console.store.tickets.get(theirs)[0].ticket_class  # type: ignore[index]
    assert ours in await listed(f"?cls={cls}")
    assert (theirs in await listed(f"?cls={cls}")) == (cls == other)
    assert await listed("?status=resolved") == set()
    assert await listed("?status=open") == {ours, theirs}
    assert await listed("?site=nowhere&cls=Z&status=bogus") == {ours, theirs}  # ignored
    customer = await console.sign_in("cust-a")
    text = (await customer.get("/console/tickets?site=s2")).text
    assert f'href="/console/tickets/{theirs}"' not in text  # a filter opens no other tenant
