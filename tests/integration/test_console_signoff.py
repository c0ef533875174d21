"""The customer's sign-off, survey and monthly report in the console, on a real store:
the drawn signature lands in the VERIFIED event and the ticket's record; an approval that
reads like a rejection asks again; a sign-off or survey link works once, for 72 h, without
an account, and never for a staff session; another contract's ticket or report is not found."""

from __future__ import annotations

import datetime as dt
import re

from monitord.config.contracts import CustomerContact
from monitord.config.notify import EmailChannel
from monitord.console.links import Links
from monitord.console.signoff import SIGNOFF_FORM
from monitord.notify.dispatcher import Dispatcher
from monitord.reports import html, markdown
from monitord.reports.service import ticket_document
from tests.peers.notify import Mailbox, free_port, smtp_server
from tests.support.consolelab import ConsoleLab, csrf_of
from tests.support.signatures import data_url, png


async def resolved(console: ConsoleLab, device: str = "nvr") -> int:
    ticket = await console.down(device)
    for kind in ("ack", "onsite", "resolve"):
        assert (await console.act(ticket, kind, "eng")).status_code == 201
    return ticket


def last_event(console: ConsoleLab, ticket: int) -> tuple[str, object]:
    found = console.store.tickets.get(ticket)
    assert found is not None
    return found[0].status, found[1][-1]


async def test_a_drawn_signature_is_kept_in_the_event_shown_and_in_the_record(
    console: ConsoleLab,
) -> None:
    ticket = await resolved(console)
    cust = await console.sign_in("cust-a")
    page = await cust.get(f"/console/tickets/{ticket}")
    assert 'canvas class="pad"' in page.text and "/console/static/signature.js" in page.text
    drawn = png()
    approved = await cust.post(f"/console/tickets/{ticket}/signoff", data={
        "csrf": csrf_of(page.text), "decision": "approve", "signer": "王经理",
        "comment": "修好了", "signature": data_url(drawn)})  # fmt: skip
    assert approved.status_code == 303, approved.text[:400]
    status, event = last_event(console, ticket)
    assert status == "verified" and event.kind == "verified"  # type: ignore[attr-defined]
    data = event.data  # type: ignore[attr-defined]
    assert data["signature_kind"] == "drawn" and data["signed_by"] == "王经理"
    assert data["principal"] == "console:cust-a/customer"
    assert data["signature"]["width"] == 600 and len(data["signature"]["sha256"]) == 64
    shown = await cust.get(f"/console/tickets/{ticket}")
    assert f'src="{data_url(drawn)}"' in shown.text
    found = ticket_document(console.store, console.config, ticket, "en", console.clock.now())
    assert found is not None
    record = html.render(found[1])
    assert f"data:image/png;base64,{data['signature']['png']}" in record
    assert "Signed by: 王经理" in record  # the typed name beside the session's user
    assert data["signature"]["sha256"] in markdown.render(found[1])


async def test_without_a_drawing_the_typed_name_is_recorded_as_such(console: ConsoleLab) -> None:
    ticket = await resolved(console)
    cust = await console.sign_in("cust-a")
    csrf = csrf_of((await cust.get(f"/console/tickets/{ticket}")).text)
    path = f"/console/tickets/{ticket}/signoff"
    blank = await cust.post(path, data={"csrf": csrf, "decision": "approve", "signer": "Wang",
                                        "signature": data_url(png(strokes=0))})  # fmt: skip
    assert blank.status_code == 422 and last_event(console, ticket)[0] == "resolved"
    junk = await cust.post(path, data={"csrf": csrf, "decision": "approve", "signer": "Wang",
                                       "signature": "data:image/png;base64,AAAA"})  # fmt: skip
    assert junk.status_code == 422
    huge = await cust.post(path, data={"csrf": csrf, "decision": "approve", "signer": "Wang",
                                       "signature": "x" * SIGNOFF_FORM})  # fmt: skip
    assert huge.status_code == 413
    typed = await cust.post(path, data={"csrf": csrf, "decision": "approve", "signer": "Wang"})
    assert typed.status_code == 303
    status, event = last_event(console, ticket)
    assert status == "verified" and event.data["signature_kind"] == "typed"  # type: ignore[attr-defined]
    assert "signature" not in event.data  # type: ignore[attr-defined]
    found = ticket_document(console.store, console.config, ticket, "en", console.clock.now())
    assert found is not None and "typed name only" in html.render(found[1])


async def test_an_approval_that_reads_like_a_rejection_asks_again(console: ConsoleLab) -> None:
    ticket = await resolved(console)
    cust = await console.sign_in("cust-a")
    csrf = csrf_of((await cust.get(f"/console/tickets/{ticket}")).text)
    path = f"/console/tickets/{ticket}/signoff"
    form = {"csrf": csrf, "decision": "approve", "signer": "王经理", "comment": "3号还是不行",
            "signature": data_url(png())}  # fmt: skip
    asked = await cust.post(path, data=form, headers={"accept-language": "zh"})
    assert asked.status_code == 200 and "还是不行" in asked.text and 'name="confirm"' in asked.text
    assert form["signature"] in asked.text  # the drawing is kept for the second step
    assert last_event(console, ticket)[0] == "resolved"
    confirmed = await cust.post(path, data={**form, "confirm": "1"})
    assert confirmed.status_code == 303
    status, event = last_event(console, ticket)
    assert status == "verified" and event.data["approved_despite"] == "还是不行"  # type: ignore[attr-defined]


async def test_a_rejection_reopens_with_its_comment_recorded(console: ConsoleLab) -> None:
    ticket = await resolved(console)
    cust = await console.sign_in("cust-a")
    csrf = csrf_of((await cust.get(f"/console/tickets/{ticket}")).text)
    rejected = await cust.post(f"/console/tickets/{ticket}/signoff", data={
        "csrf": csrf, "decision": "reject", "comment": "camera 3 still dark"})  # fmt: skip
    assert rejected.status_code == 303
    status, event = last_event(console, ticket)
    assert status == "open" and event.kind == "reopened"  # type: ignore[attr-defined]
    assert event.text == "camera 3 still dark"  # type: ignore[attr-defined]
    assert event.data["principal"] == "console:cust-a/customer"  # type: ignore[attr-defined]


def mint(console: ConsoleLab, purpose: str, ticket: int) -> str:
    links = Links(console.store, console.config.console, console.clock.now)
    path = links.mint_for_contact(purpose, "wang", ticket)
    assert path is not None
    return path


async def test_a_signoff_link_works_once_without_an_account(console: ConsoleLab) -> None:
    ticket = await resolved(console)
    path = mint(console, "signoff", ticket)
    phone = console.browser()
    shown = await phone.get(path)
    assert shown.status_code == 200 and 'canvas class="pad"' in shown.text
    assert shown.headers["referrer-policy"] == "no-referrer"
    again = await phone.get(path)  # a pre-fetcher's GET used nothing
    assert again.status_code == 200 and last_event(console, ticket)[0] == "resolved"
    forged = await console.browser().post(path, data={"csrf": csrf_of(shown.text),
                                           "decision": "approve", "signer": "x"})  # fmt: skip
    assert forged.status_code == 403  # no CSRF cookie: not from the page
    csrf = csrf_of(again.text)
    signed = await phone.post(path, data={"csrf": csrf, "decision": "approve",
                              "signer": "王经理", "signature": data_url(png())})  # fmt: skip
    assert signed.status_code == 200 and 'id="outcome"' in signed.text
    status, event = last_event(console, ticket)
    assert status == "verified" and event.by == "王经理"  # type: ignore[attr-defined]
    assert event.data["principal"] == "link:signoff/wang"  # type: ignore[attr-defined]
    assert event.data["signature_kind"] == "drawn"  # type: ignore[attr-defined]
    used = await phone.post(path, data={"csrf": csrf, "decision": "approve", "signer": "x"})
    assert used.status_code == 410
    assert (await phone.get(path)).status_code == 410


async def test_a_signoff_link_expires_after_72_hours_and_is_only_a_signoff_link(
    console: ConsoleLab,
) -> None:
    ticket = await resolved(console)
    path = mint(console, "signoff", ticket)
    token = path.rsplit("/", 1)[1]
    phone = console.browser()
    assert (await phone.get(f"/console/t/{token}")).status_code == 410  # not a sign-in link
    assert (await phone.get(f"/console/survey/{token}")).status_code == 410  # nor a survey's
    csrf = csrf_of((await phone.get(path)).text)
    await console.clock.advance(dt.timedelta(hours=72, seconds=1).total_seconds())
    late = await phone.post(path, data={"csrf": csrf, "decision": "approve", "signer": "王"})
    assert late.status_code == 410 and last_event(console, ticket)[0] == "resolved"


async def test_a_staff_session_never_signs_through_a_customer_link(console: ConsoleLab) -> None:
    ticket = await resolved(console)
    path = mint(console, "signoff", ticket)
    for name in ("eng", "mgr", "disp"):
        staff = await console.sign_in(name)
        csrf = csrf_of((await staff.get(path)).text)
        tried = await staff.post(path, data={"csrf": csrf, "decision": "approve",
                                             "signer": "the customer"})  # fmt: skip
        assert tried.status_code == 403, name
    assert last_event(console, ticket)[0] == "resolved"
    phone = console.browser()  # the link is still good for the customer
    csrf = csrf_of((await phone.get(path)).text)
    done = await phone.post(path, data={"csrf": csrf, "decision": "reject", "comment": "没修好"})
    assert done.status_code == 200 and last_event(console, ticket)[0] == "open"


SURVEY = {"contact": "王经理", "attitude": "5", "responsibility": "4", "effect": "3",
          "score": "92", "problems": "门口灯不亮", "suggestions": "提前电话通知"}  # fmt: skip


async def test_the_survey_lands_where_followups_record_lands(console: ConsoleLab) -> None:
    ticket = await resolved(console)
    cust = await console.sign_in("cust-a")
    page = await cust.get(f"/console/tickets/{ticket}/survey")
    assert page.status_code == 200
    path = f"/console/tickets/{ticket}/survey"
    bad = await cust.post(path, data={"csrf": csrf_of(page.text), **SURVEY, "attitude": "9"})
    assert bad.status_code == 422 and not console.store.followups.visits()
    sent = await cust.post(path, data={"csrf": csrf_of(page.text), **SURVEY})
    assert sent.status_code == 303
    [visit] = console.store.followups.visits()
    assert (visit.site_id, visit.contract, visit.contact) == ("s1", "seed-000", "王经理")
    assert (visit.attitude, visit.responsibility, visit.effect, visit.score) == (5, 4, 3, 92)
    assert visit.problems == "门口灯不亮" and visit.suggestions == "提前电话通知"
    assert visit.by == "console:cust-a/customer" and visit.extra["ticket"] == ticket
    other = await console.sign_in("cust-b")
    assert (await other.get(path)).status_code == 404
    csrf_b = csrf_of((await other.get("/console/tickets")).text)
    assert (await other.post(path, data={"csrf": csrf_b, **SURVEY})).status_code == 404
    assert len(console.store.followups.visits()) == 1


async def test_a_survey_link_works_once(console: ConsoleLab) -> None:
    ticket = await resolved(console)
    path = mint(console, "survey", ticket)
    phone = console.browser()
    csrf = csrf_of((await phone.get(path)).text)
    forged = await console.browser().post(path, data={"csrf": csrf, **SURVEY})
    assert forged.status_code == 403 and not console.store.followups.visits()
    assert (await phone.post(path, data={"csrf": csrf, **SURVEY})).status_code == 200
    [visit] = console.store.followups.visits()
    assert visit.by == "link:survey/wang" and visit.score == 92
    assert (await phone.post(path, data={"csrf": csrf, **SURVEY})).status_code == 410
    assert len(console.store.followups.visits()) == 1


async def test_the_monthly_report_only_for_the_customers_own_contract(console: ConsoleLab) -> None:
    await resolved(console)
    cust = await console.sign_in("cust-a")
    form = await cust.get("/console/monthly")
    assert form.status_code == 200 and "seed-004" not in form.text
    month = console.clock.now().strftime("%Y-%m")
    got = await cust.get(f"/console/monthly?month={month}")
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    assert "seed-000" in got.headers["content-disposition"] and "<html" in got.text
    assert (await cust.get(f"/console/monthly?month={month}&contract=seed-004")).status_code == 404
    assert (await cust.get("/console/monthly?month=nonsense")).status_code == 422
    disp = await console.sign_in("disp")
    theirs = await disp.get(f"/console/monthly?month={month}&contract=seed-004")
    assert theirs.status_code == 200 and re.search(
        r"seed-004", theirs.headers["content-disposition"]
    )
    eng = await console.sign_in("eng")
    assert (await eng.get("/console/monthly")).status_code == 403


async def test_a_resolved_ticket_mails_the_contact_a_link_that_signs_it_off(
    console: ConsoleLab,
) -> None:
    port = free_port()
    contract = console.config.contracts[0]
    contacts = (CustomerContact(id="wang", name="王经理", email="wang@example.com"),)
    mail = EmailChannel(type="email", name="mail", host="127.0.0.1", port=port,
                        security="none", sender="noc@example.com", timeout=5)  # fmt: skip
    console.config = console.config.model_copy(update={
        "contracts": (contract.model_copy(update={"customer_contacts": contacts}),
                      *console.config.contracts[1:]),
        "notify": console.config.notify.model_copy(update={"channels": (mail,)})})  # fmt: skip
    ticket = await resolved(console)
    stored = [m for m in console.store.outbox.messages() if m.recipient == "wang@example.com"]
    assert [f"{{contact:signoff:wang:{ticket}}}" in m.body for m in stored] == [True]
    links = Links(console.store, console.config.console, console.clock.now)
    notifier = Dispatcher(console.store, console.clock, console.config.notify,
                          contact_links=links.mint_for_contact)  # fmt: skip
    mailbox = Mailbox()
    with smtp_server(mailbox, port):
        await console.clock.advance(5)  # past any grouping wait
        await notifier.pass_once()
    [body] = [b for b in mailbox.bodies if "/console/signoff/" in b]
    found = re.search(r"https://noc\.example(/console/signoff/([\w-]{43}))", body)
    assert found, body
    assert all(found.group(2) not in m.body for m in console.store.outbox.messages())
    phone = console.browser()
    csrf = csrf_of((await phone.get(found.group(1))).text)
    signed = await phone.post(found.group(1), data={"csrf": csrf, "decision": "approve",
                                                    "signer": "王经理"})  # fmt: skip
    assert signed.status_code == 200 and last_event(console, ticket)[0] == "verified"
    surveys = [m for m in console.store.outbox.messages() if "{contact:survey:" in m.body]
    assert [m.recipient for m in surveys] == ["wang@example.com"]
