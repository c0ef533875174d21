"""The offline queue's server half: an action's idempotency key is recorded once, and the
time it was taken dates the event when plausible (the lab's clock stands in for now)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import uuid
from pathlib import Path

import httpx
import pytest
from PIL import Image

from monitord.console import views
from monitord.console.work import LEADS_TO, STEPS
from monitord.store import RepeatedAction
from monitord.store.records import TicketEventRecord
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind, Status, TicketEvent, derive
from tests.support.consolelab import ConsoleLab, csrf_of


async def engineer_on(console: ConsoleLab, ticket: int) -> tuple[httpx.AsyncClient, str]:
    eng = await console.sign_in("eng")
    page = await eng.get(f"/console/tickets/{ticket}")
    return eng, csrf_of(page.text)


def key() -> str:
    return str(uuid.uuid4())


def events_of(console: ConsoleLab, ticket: int) -> list[TicketEventRecord]:
    return console.store.tickets.events(ticket)


async def test_the_same_key_twice_makes_one_event_and_the_same_answer(
    console: ConsoleLab,
) -> None:
    ticket = await console.down("nvr")
    eng, csrf = await engineer_on(console, ticket)
    form = {"csrf": csrf, "action": "ack", "idem": key()}
    first = await eng.post(f"/console/tickets/{ticket}/act", data=form)
    again = await eng.post(f"/console/tickets/{ticket}/act", data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert [e.kind for e in events_of(console, ticket)] == ["opened", "acknowledged"]
    # Without a key (a plain form, no JavaScript) the same action is refused as before.
    plain = await eng.post(f"/console/tickets/{ticket}/act", data={"csrf": csrf, "action": "ack"})
    assert plain.status_code == 409


async def test_different_keys_make_two_events(console: ConsoleLab) -> None:
    ticket = await console.down("nvr")
    eng, csrf = await engineer_on(console, ticket)
    for action in ("ack", "onway"):
        sent = await eng.post(f"/console/tickets/{ticket}/act",
                              data={"csrf": csrf, "action": action, "idem": key()})  # fmt: skip
        assert sent.status_code == 303
    kinds = [e.kind for e in events_of(console, ticket)]
    assert kinds == ["opened", "acknowledged", "comment"]


async def test_a_key_reused_on_another_ticket_is_refused_and_writes_nothing(
    console: ConsoleLab,
) -> None:
    one, other = await console.down("nvr"), await console.down("cam-x")
    eng, csrf = await engineer_on(console, one)
    used = key()
    assert (await eng.post(f"/console/tickets/{one}/act",
                           data={"csrf": csrf, "action": "ack", "idem": used})).status_code == 303  # fmt: skip
    refused = await eng.post(f"/console/tickets/{other}/act",
                             data={"csrf": csrf, "action": "ack", "idem": used})  # fmt: skip
    assert refused.status_code == 409
    assert [e.kind for e in events_of(console, other)] == ["opened"]
    bad = await eng.post(f"/console/tickets/{other}/act",
                         data={"csrf": csrf, "action": "ack", "idem": "x' or 1=1"})  # fmt: skip
    assert bad.status_code == 422


async def test_a_repeated_signoff_answers_as_the_first_even_after_the_status_moved(
    console: ConsoleLab,
) -> None:
    ticket = await console.down("nvr")
    for kind in ("ack", "onsite", "resolve"):
        assert (await console.act(ticket, kind, "eng")).status_code == 201
    cust = await console.sign_in("cust-a")
    csrf = csrf_of((await cust.get(f"/console/tickets/{ticket}")).text)
    form = {"csrf": csrf, "decision": "approve", "signer": "王经理", "idem": key()}
    first = await cust.post(f"/console/tickets/{ticket}/signoff", data=form)
    again = await cust.post(f"/console/tickets/{ticket}/signoff", data=form)
    assert first.headers["location"] == again.headers["location"]
    assert again.headers["location"].endswith("?done=approved")
    assert [e.kind for e in events_of(console, ticket)].count("verified") == 1


async def test_a_report_sent_twice_opens_one_ticket(console: ConsoleLab) -> None:
    cust = await console.sign_in("cust-a")
    csrf = csrf_of((await cust.get("/console/report")).text)
    form = {"csrf": csrf, "site": "s1", "text": "大门摄像头黑屏", "idem": key()}
    first = await cust.post("/console/report", data=form)
    again = await cust.post("/console/report", data=form)
    assert first.headers["location"] == again.headers["location"]
    assert len(console.store.tickets.recent()) == 1


async def test_on_site_taken_offline_stops_the_clock_when_taken_not_when_sent(
    console: ConsoleLab,
) -> None:
    ticket = await console.down("nvr")
    eng, csrf = await engineer_on(console, ticket)
    arrived = console.clock.now() + dt.timedelta(minutes=10)
    await console.clock.advance(3600)  # the signal comes back an hour after the ticket opened
    sent = await eng.post(f"/console/tickets/{ticket}/act",
                          data={"csrf": csrf, "action": "onsite", "idem": key(),
                                "taken_at": arrived.isoformat()})  # fmt: skip
    assert sent.status_code == 303
    on_site = events_of(console, ticket)[-1]
    assert (on_site.kind, on_site.at) == ("on_site", arrived)
    assert on_site.data["received_at"] == console.clock.now().isoformat()
    assert on_site.data["time_from"] == "client"
    found = console.store.tickets.get(ticket)
    assert found is not None and found[0].status == "on_site"
    clocks = views.view(console.config, found[0], found[1], console.clock.now()).clocks
    stopped = [c for c in clocks if c.met_at == arrived]
    assert stopped and all(c.met_at is None for c in clocks if c not in stopped), clocks


@pytest.mark.parametrize(
    ("offset", "source"),
    [(dt.timedelta(minutes=5), "server"),  # the phone's clock is ahead
     (-dt.timedelta(hours=25), "server"),  # older than a queue is believed
     (-dt.timedelta(hours=2), "server")],  # before the ticket opened
)  # fmt: skip
async def test_implausible_times_fall_back_to_the_servers(
    console: ConsoleLab, offset: dt.timedelta, source: str
) -> None:
    ticket = await console.down("nvr")
    eng, csrf = await engineer_on(console, ticket)
    await console.clock.advance(1800)
    claimed = console.clock.now() + offset
    await eng.post(f"/console/tickets/{ticket}/act",
                   data={"csrf": csrf, "action": "ack", "idem": key(),
                         "taken_at": claimed.isoformat()})  # fmt: skip
    ack = events_of(console, ticket)[-1]
    assert (ack.kind, ack.at, ack.data["time_from"]) == (
        "acknowledged",
        console.clock.now(),
        source,
    )
    assert ack.data["taken_at"] == claimed.isoformat()


async def test_racing_sends_of_one_key_record_it_once(console: ConsoleLab) -> None:
    ticket = await console.down("nvr")
    idem = key()

    def note() -> str:
        try:
            tickets.append(console.store, ticket, EventKind.COMMENT, "eng", console.clock.now(),
                           "n", idem=idem)  # fmt: skip
        except RepeatedAction as exc:
            assert exc.ticket_id == ticket
            return "repeat"
        return "written"

    outcomes = await asyncio.gather(*(asyncio.to_thread(note) for _ in range(8)))
    assert sorted(outcomes) == ["repeat"] * 7 + ["written"]
    assert [e.kind for e in events_of(console, ticket)] == ["opened", "comment"]


# The key's uniqueness is the store's, tested on both backends by the racing tests; the
# rest is the console's and runs once.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# How a log reaches each status a step is offered in.
ROUTE_TO = {
    Status.OPEN: (),
    Status.ACKNOWLEDGED: (EventKind.ACKNOWLEDGED,),
    Status.ON_SITE: (EventKind.ON_SITE,),
    Status.DIAGNOSED: (EventKind.ON_SITE, EventKind.DIAGNOSIS),
    Status.PLANNED: (EventKind.ON_SITE, EventKind.DIAGNOSIS, EventKind.PLAN),
    Status.IN_PROGRESS: (EventKind.ON_SITE, EventKind.DIAGNOSIS, EventKind.PLAN, EventKind.STAGE),
}

# The work forms (console/work.py): multipart, with photos, as the phone's queue sends them.


@pytest.fixture
def lab(console: ConsoleLab, tmp_path: Path) -> ConsoleLab:
    console.config = console.config.model_copy(update={"state_dir": tmp_path})
    return console


def jpeg(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "JPEG")
    return out.getvalue()


def kept(lab: ConsoleLab, ticket: int) -> list[str]:
    folder = lab.config.state_dir / "photos" / str(ticket)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def work(
    eng: httpx.AsyncClient, csrf: str, ticket: int, step: str, idem: str, text: str = "",
    photos: tuple[bytes, ...] = (), **fields: str,
) -> httpx.Response:  # fmt: skip
    files = [("photos", (f"p{i}.jpg", p, "image/jpeg")) for i, p in enumerate(photos)]
    data = {"csrf": csrf, "step": step, "text": text, "idem": idem, **fields}
    return await eng.post(f"/console/tickets/{ticket}/work", data=data, files=files or None)


@SQLITE_ONLY
async def test_a_work_step_sent_again_with_its_photos_is_recorded_once(lab: ConsoleLab) -> None:
    ticket = await lab.down("nvr")
    eng, csrf = await engineer_on(lab, ticket)
    assert (await work(eng, csrf, ticket, "onsite", key())).status_code == 303
    idem, photos = key(), (jpeg("red"), jpeg("green"))
    first = await work(eng, csrf, ticket, "diagnose", idem, "PSU dead", photos)
    again = await work(eng, csrf, ticket, "diagnose", idem, "PSU dead", photos)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    events = events_of(lab, ticket)
    assert [e.kind for e in events] == ["opened", "on_site", "diagnosis"]
    names = sorted(p["name"] for p in events[-1].data["photos"])
    assert kept(lab, ticket) == names and len(names) == 2  # the resend's photos not kept
    # Two stage reports with their own keys are two events; a plain form (no key) as before.
    for text in ("PSU ordered", "PSU fitted"):
        await work(eng, csrf, ticket, "plan" if text == "PSU ordered" else "stage", key(), text)
    plain = await eng.post(f"/console/tickets/{ticket}/work",
                           data={"csrf": csrf, "step": "stage", "text": "PSU tested"})  # fmt: skip
    assert plain.status_code == 303
    assert [e.text for e in events_of(lab, ticket)[3:]] == ["PSU ordered", "PSU fitted",
                                                              "PSU tested"]  # fmt: skip
    # The same key on another ticket is refused, and keeps no photo there.
    other = await lab.down("cam-x")
    moved = await work(eng, csrf, other, "ack", idem, "", (jpeg("blue"),))
    assert moved.status_code == 409 and kept(lab, other) == []
    assert [e.kind for e in events_of(lab, other)] == ["opened"]


@SQLITE_ONLY
async def test_a_work_step_taken_offline_is_dated_when_taken(lab: ConsoleLab) -> None:
    ticket = await lab.down("nvr")
    eng, csrf = await engineer_on(lab, ticket)
    opened = lab.clock.now()
    await lab.clock.advance(3600)  # the signal comes back an hour later
    now = lab.clock.now()
    claims = [
        ("ack", opened + dt.timedelta(minutes=5), "client"),
        ("onsite", opened + dt.timedelta(minutes=40), "client"),
        ("diagnose", now + dt.timedelta(minutes=10), "server"),
    ]  # the phone runs ahead
    for step, at, _ in claims:
        sent = await work(eng, csrf, ticket, step, key(), "found it", (), lat="31.2",
                          lon="121.4", taken_at=at.isoformat())  # fmt: skip
        assert sent.status_code == 303
    events = events_of(lab, ticket)[1:]
    assert [(e.at, e.data["time_from"]) for e in events] == [
        (claims[0][1], "client"), (claims[1][1], "client"), (now, "server")]  # fmt: skip
    assert events[1].data["location"] == {"lat": 31.2, "lon": 121.4}  # geolocation kept
    assert all(e.data["received_at"] == now.isoformat() for e in events)
    bad = await work(eng, csrf, ticket, "plan", key(), "x", (), taken_at="yesterday")
    assert bad.status_code == 303 and events_of(lab, ticket)[-1].at == now  # unreadable: now
    before = await work(eng, csrf, ticket, "stage", key(), "y", (),
                        taken_at=(opened - dt.timedelta(hours=1)).isoformat())  # fmt: skip
    assert before.status_code == 303
    assert events_of(lab, ticket)[-1].data["time_from"] == "server"  # before the ticket opened


@SQLITE_ONLY
async def test_pause_and_resume_sent_again_are_recorded_once(lab: ConsoleLab) -> None:
    ticket = await lab.down("nvr")
    eng, csrf = await engineer_on(lab, ticket)
    path = f"/console/tickets/{ticket}/pause"
    for action in ("pause", "resume"):
        form = {"csrf": csrf, "action": action, "reason": "the key", "idem": key(),
                "taken_at": lab.clock.now().isoformat()}  # fmt: skip
        for _ in range(2):
            assert (await eng.post(path, data=form)).status_code == 303
    assert [e.kind for e in events_of(lab, ticket)] == ["opened", "paused", "resumed"]


async def test_racing_sends_of_one_work_step_keep_one_set_of_photos(lab: ConsoleLab) -> None:
    ticket = await lab.down("nvr")
    eng, csrf = await engineer_on(lab, ticket)
    idem = key()
    sent = await asyncio.gather(
        *(work(eng, csrf, ticket, "ack", idem, "", (jpeg("red"),)) for _ in range(4))
    )
    assert all(r.status_code == 303 for r in sent), [r.status_code for r in sent]
    events = events_of(lab, ticket)
    assert [e.kind for e in events] == ["opened", "acknowledged"]
    assert kept(lab, ticket) == [p["name"] for p in events[-1].data["photos"]]


def test_each_step_leads_where_the_lifecycle_takes_it() -> None:
    # The page moves on by work.LEADS_TO after a step is queued: it must agree with the log.
    start = TicketEvent(dt.datetime(2026, 6, 1, tzinfo=dt.UTC), EventKind.OPENED, "m")
    for name, (kind, offered) in STEPS.items():
        for status in offered:
            log = [start, *(TicketEvent(start.at, k, "m") for k in ROUTE_TO[status])]
            assert derive(log).status == status
            after = derive([*log, TicketEvent(start.at, kind, "m")]).status
            assert after == LEADS_TO.get(name, status), (name, status)


@SQLITE_ONLY
async def test_the_queue_says_how_many_wait_in_english_too(console: ConsoleLab) -> None:
    ticket = await console.down("nvr")
    eng = await console.sign_in("eng")
    await eng.get("/console/lang/en?next=/console/mine")
    page = (await eng.get(f"/console/tickets/{ticket}")).text
    assert 'data-one="action waiting to send (no signal)"' in page
    assert 'data-many="actions waiting to send (no signal)"' in page
