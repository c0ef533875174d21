"""A customer reports a fault (报修) from the web: a hotline ticket through the one opening
path, the first-reply clock running, the on-call engineer paged in the same write (with
their one-time link); only for the customer's own sites."""

from __future__ import annotations

from monitord.config import Config
from monitord.console.accounts import Accounts, Role
from tests.support.consolelab import PASSWORD, ConsoleLab, csrf_of

ONCALL = {
    "channels": [{"type": "email", "name": "mail", "host": "127.0.0.1", "port": 2525,
                  "security": "none", "sender": "monitord@example.com"}],
    "oncall": {
        "people": [{"id": "li", "name": "李工", "email": "li@example.com", "console_user": "eng"}],
        "rotations": [{"id": "duty", "contracts": ["seed-000"], "handover": "weekly",
                       "start": "2026-01-05", "people": ["li"]}],
    },
    "escalation": [{"id": "calls", "classes": ["hotline"], "steps": [
        {"after": "0s", "targets": ["oncall"], "channels": ["mail"]}]}],
}  # fmt: skip


def paging(console: ConsoleLab) -> None:
    data = console.config.model_dump(by_alias=True, mode="json", exclude_none=True)
    data["notify"] = {**data["notify"], **ONCALL}
    console.config = Config.model_validate(data)


async def test_a_customer_reports_a_fault_and_the_on_call_engineer_is_paged(
    console: ConsoleLab,
) -> None:
    paging(console)
    customer = await console.sign_in("cust-a")
    form = await customer.get("/console/report")
    assert form.status_code == 200 and 'value="s1"' in form.text and 'value="s2"' not in form.text
    empty = await customer.post("/console/report", data={"csrf": csrf_of(form.text),
                                                         "site": "s1", "text": " "})  # fmt: skip
    assert empty.status_code == 422
    sent = await customer.post("/console/report", data={"csrf": csrf_of(form.text), "site": "s1",
                               "text": "大门摄像头黑屏\n从早上开始"})  # fmt: skip
    assert sent.status_code == 303
    [ticket] = console.store.tickets.recent()
    assert sent.headers["location"] == f"/console/tickets/{ticket.id}?done=reported"
    assert (ticket.site_id, ticket.ticket_class, ticket.title) == ("s1", None, "大门摄像头黑屏")
    [opened] = console.store.tickets.events(ticket.id)
    assert opened.by == "cust-a" and opened.data["hotline"] is True
    assert opened.data["console_user"] == "cust-a"
    page = await customer.get(sent.headers["location"])
    assert "first reply" in page.text  # the hotline's 30-minute clock
    paged = [r for r in console.store.outbox.messages() if r.recipient == "li@example.com"]
    assert paged and f"{{signin:eng:{ticket.id}}}" in paged[0].body


async def test_a_customer_cannot_report_for_another_tenant_or_an_unbound_site(
    console: ConsoleLab,
) -> None:
    customer = await console.sign_in("cust-a")
    form = await customer.get("/console/report")
    other = await customer.post("/console/report", data={"csrf": csrf_of(form.text),
                                "site": "s2", "text": "not ours"})  # fmt: skip
    assert other.status_code == 404
    Accounts(console.store, console.config.console).add(
        "cust-gate", Role.CUSTOMER, PASSWORD, console.clock.now(), contract="seed-000",
        sites=["elsewhere"],
    )  # fmt: skip
    bound = await console.sign_in("cust-gate")
    form = await bound.get("/console/report")
    assert 'value="s1"' not in form.text
    tried = await bound.post("/console/report", data={"csrf": csrf_of(form.text),
                             "site": "s1", "text": "not my site"})  # fmt: skip
    assert tried.status_code == 404
    assert console.store.tickets.recent() == []
