"""The engineer's work forms through the real ASGI app (and its guard) on a real store: each
milestone with text and photos lands in the event the CLI records, photos are capped and
refused by their bytes, served only to who may see the ticket, and pause/resume needs a
reason."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from monitord.console.work import STEPS
from monitord.present.actions import ACTIONS
from monitord.reports.document import Paragraph
from monitord.reports.ticket_record import document
from tests.support.consolelab import ConsoleLab, csrf_of

MIB = 1024 * 1024


def jpeg(width: int = 40, height: int = 30, colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG")
    return out.getvalue()


def image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(out, kind)
    return out.getvalue()


@pytest.fixture
def lab(console: ConsoleLab, tmp_path: Path) -> ConsoleLab:
    """The console with its photos under a test folder and small caps (2 MiB a photo)."""
    settings = console.config.console.model_copy(
        update={
            "photo_max_bytes": 2 * MIB,
            "photos_per_form": 3,
            "ticket_photos_max_bytes": 5 * MIB,
        }
    )
    console.config = console.config.model_copy(update={"state_dir": tmp_path, "console": settings})
    return console


async def step(
    client: httpx.AsyncClient, ticket: int, name: str, text: str = "", photos: tuple[bytes, ...] = (),
    **fields: str,
) -> httpx.Response:  # fmt: skip
    page = await client.get(f"/console/tickets/{ticket}")
    files = [("photos", (f"p{i}.jpg", p, "image/jpeg")) for i, p in enumerate(photos)]
    data = {"csrf": csrf_of(page.text), "step": name, "text": text, **fields}
    return await client.post(f"/console/tickets/{ticket}/work", data=data, files=files or None)


def folder(lab: ConsoleLab, ticket: int) -> Path:
    return lab.config.state_dir / "photos" / str(ticket)


def test_each_step_is_the_event_the_cli_records() -> None:
    for name, (kind, _) in STEPS.items():
        if name != "onway":  # a comment with data.milestone: the lifecycle has no state for it
            assert ACTIONS[name][0] == kind, name


async def test_the_whole_milestone_path_with_text_photos_and_location(lab: ConsoleLab) -> None:
    ticket = await lab.down("nvr")
    eng = await lab.sign_in("eng")
    assert (await step(eng, ticket, "plan", "too early")).status_code == 409
    assert (await step(eng, ticket, "ack", "on it", (jpeg(),))).status_code == 303
    assert (await step(eng, ticket, "onway")).status_code == 303
    arrived = await step(eng, ticket, "onsite", "", (), lat="31.2304", lon="121.4737",
                         accuracy="12.5")  # fmt: skip
    assert arrived.status_code == 303
    assert (await step(eng, ticket, "diagnose", "")).status_code == 422  # a report needs text
    two = (jpeg(colour="green"), jpeg(colour="blue"))
    assert (await step(eng, ticket, "diagnose", "NVR PSU dead", two)).status_code == 303
    assert (await step(eng, ticket, "plan", "swap the PSU today")).status_code == 303
    assert (await step(eng, ticket, "stage", "PSU ordered")).status_code == 303
    assert (await step(eng, ticket, "stage", "PSU fitted", (jpeg(),))).status_code == 303
    assert (await step(eng, ticket, "resolve", "recording again", (jpeg(),))).status_code == 303
    record, events = lab.store.tickets.get(ticket) or (None, [])
    assert record is not None and record.status == "resolved"
    assert [e.kind for e in events] == ["opened", "acknowledged", "comment", "on_site", "diagnosis",
                                        "plan", "stage", "stage", "resolved"]  # fmt: skip
    assert all(e.by == "eng" and e.data["console_user"] == "eng" for e in events[1:])
    assert events[2].data["milestone"] == "en_route"
    assert events[3].data["location"] == {"lat": 31.2304, "lon": 121.4737, "accuracy_m": 12.5}
    assert events[4].text == "NVR PSU dead" and len(events[4].data["photos"]) == 2
    names = [p["name"] for e in events for p in e.data.get("photos", ())]
    assert len(names) == len(set(names)) == 5
    assert sorted(p.name for p in folder(lab, ticket).iterdir()) == sorted(names)
    assert events[4].data["photos"][1]["bytes"] == len(two[1])
    page = await eng.get(f"/console/tickets/{ticket}")
    for name in names:  # thumbnails in the log
        assert f'src="/console/tickets/{ticket}/photos/{name}"' in page.text
    served = await eng.get(
        f"/console/tickets/{ticket}/photos/{events[4].data['photos'][1]['name']}"
    )
    assert served.status_code == 200 and served.content == two[1]
    assert served.headers["content-type"] == "image/jpeg"
    assert "nosniff" in served.headers["x-content-type-options"]


async def test_on_site_without_a_location_is_recorded_all_the_same(lab: ConsoleLab) -> None:
    ticket = await lab.down("nvr")
    eng = await lab.sign_in("eng")
    assert (await step(eng, ticket, "onsite", "", (), lat="", lon="")).status_code == 303
    assert (await step(eng, ticket, "onsite")).status_code == 409  # already on site
    on_site = lab.store.tickets.events(ticket)[-1]
    assert on_site.kind == "on_site" and "location" not in on_site.data


async def test_photos_are_refused_by_their_bytes_and_their_size(lab: ConsoleLab) -> None:
    ticket = await lab.down("nvr")
    eng = await lab.sign_in("eng")
    disguised = b"GIF89a" + b"\0" * 100  # sent as image/jpeg, named .jpg
    for bad in (disguised, b"<svg xmlns='http://www.w3.org/2000/svg'/>", image("GIF")):
        refused = await step(eng, ticket, "ack", "", (jpeg(), bad))
        assert refused.status_code == 415 and "JPEG" in refused.text
    big = jpeg() + b"\0" * (2 * MIB)  # over the 2 MiB photo cap, under the form's body cap
    assert (await step(eng, ticket, "ack", "", (big,))).status_code == 413
    too_many = tuple(jpeg() for _ in range(4))  # 3 a form
    assert (await step(eng, ticket, "ack", "", too_many)).status_code == 413
    assert not folder(lab, ticket).exists() or not any(folder(lab, ticket).iterdir())
    assert [e.kind for e in lab.store.tickets.events(ticket)] == ["opened"]  # nothing taken
    fine = (image("PNG"), image("WEBP"), jpeg())
    assert (await step(eng, ticket, "ack", "", fine)).status_code == 303
    types = [p["type"] for p in lab.store.tickets.events(ticket)[-1].data["photos"]]
    assert types == ["image/png", "image/webp", "image/jpeg"]


async def test_the_body_cap_is_raised_for_the_work_form_only(lab: ConsoleLab) -> None:
    # api.max_body_bytes is 1 MiB: a 1.5 MiB photo passes the guard on the work form only.
    assert lab.config.api.max_body_bytes == MIB
    ticket = await lab.down("nvr")
    eng = await lab.sign_in("eng")
    photo = jpeg() + b"\0" * (MIB + MIB // 2)
    assert (await step(eng, ticket, "ack", "", (photo,))).status_code == 303
    page = await eng.get(f"/console/tickets/{ticket}")
    elsewhere = await eng.post(f"/console/tickets/{ticket}/pause",
                               data={"csrf": csrf_of(page.text), "action": "pause",
                                     "reason": "x" * (MIB + MIB // 2)})  # fmt: skip
    assert elsewhere.status_code == 413
    # Past photos per form x bytes per photo (+ 64 KiB) the guard refuses the work form too.
    over = lab.config.console.upload_bytes + 1
    cut = await eng.post(f"/console/tickets/{ticket}/work", content=b"x" * over,
                         headers={"content-type": "multipart/form-data; boundary=b"})  # fmt: skip
    assert cut.status_code == 413


async def test_the_ticket_holds_no_more_than_its_photo_cap(lab: ConsoleLab) -> None:
    ticket = await lab.down("nvr")
    eng = await lab.sign_in("eng")
    near = jpeg() + b"\0" * (int(1.9 * MIB))
    assert (await step(eng, ticket, "ack", "", (near, near))).status_code == 303
    full = await step(eng, ticket, "onsite", "", (near, near))  # 7.6 MiB > 5 MiB a ticket
    assert full.status_code == 413 and "no room" in full.text
    assert len(list(folder(lab, ticket).iterdir())) == 2


async def test_photos_are_served_only_to_who_may_see_the_ticket(lab: ConsoleLab) -> None:
    ours, theirs = await lab.down("nvr"), await lab.down("cam-x")  # contracts A and B
    eng = await lab.sign_in("eng")
    assert (await step(eng, ours, "ack", "", (jpeg(colour="red"),))).status_code == 303
    assert (await step(eng, theirs, "ack", "", (jpeg(colour="blue"),))).status_code == 303
    [mine] = lab.store.tickets.events(ours)[-1].data["photos"]
    [other] = lab.store.tickets.events(theirs)[-1].data["photos"]
    url = f"/console/tickets/{ours}/photos/{mine['name']}"
    cust_a, cust_b = await lab.sign_in("cust-a"), await lab.sign_in("cust-b")
    assert (await cust_a.get(url)).status_code == 200
    assert (await cust_b.get(url)).status_code == 404  # another tenant's: nothing told
    anonymous = await lab.browser().get(url)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/console/login"
    # B's photo asked for under A's ticket (which the customer may see): A's log does not name it.
    assert (await cust_a.get(f"/console/tickets/{ours}/photos/{other['name']}")).status_code == 404
    stray = folder(lab, ours) / ("0" * 32 + ".jpg")  # a file nobody recorded
    stray.write_bytes(jpeg())
    assert (await eng.get(f"/console/tickets/{ours}/photos/{stray.name}")).status_code == 404
    assert (await eng.get(f"/console/tickets/{ours}/photos/..%2Fx.jpg")).status_code in (404, 422)
    # Customers may not post work, even on their own ticket.
    page = await cust_a.get(f"/console/tickets/{ours}")
    posted = await cust_a.post(f"/console/tickets/{ours}/work",
                               data={"csrf": csrf_of(page.text), "step": "onsite"})  # fmt: skip
    assert posted.status_code == 403


async def test_pause_and_resume_need_a_reason_and_stop_the_clocks(lab: ConsoleLab) -> None:
    ticket = await lab.down("nvr")
    eng = await lab.sign_in("eng")
    page = await eng.get(f"/console/tickets/{ticket}")
    assert 'value="pause"' in page.text
    path, csrf = f"/console/tickets/{ticket}/pause", csrf_of(page.text)
    silent = await eng.post(path, data={"csrf": csrf, "action": "pause", "reason": " "})
    assert silent.status_code == 422
    paused = await eng.post(path, data={"csrf": csrf, "action": "pause",
                            "reason": "waiting for the customer's key"})  # fmt: skip
    assert paused.status_code == 303
    record, events = lab.store.tickets.get(ticket) or (None, [])
    assert record is not None and record.paused
    assert (events[-1].kind, events[-1].text) == ("paused", "waiting for the customer's key")
    page = await eng.get(f"/console/tickets/{ticket}")
    assert 'value="resume"' in page.text and "clock paused" in page.text
    again = await eng.post(path, data={"csrf": csrf, "action": "pause", "reason": "twice"})
    assert again.status_code == 409
    assert (await eng.post(path, data={"csrf": csrf, "action": "resume"})).status_code == 422
    resumed = await eng.post(path, data={"csrf": csrf, "action": "resume", "reason": "key here"})
    assert resumed.status_code == 303
    record, events = lab.store.tickets.get(ticket) or (None, [])
    assert record is not None and not record.paused and events[-1].kind == "resumed"


async def test_the_work_record_lists_the_photos(lab: ConsoleLab) -> None:
    ticket = await lab.down("nvr")
    eng = await lab.sign_in("eng")
    await step(eng, ticket, "onsite")
    assert (await step(eng, ticket, "diagnose", "PSU", (jpeg(), jpeg()))).status_code == 303
    record, events = lab.store.tickets.get(ticket) or (None, [])
    assert record is not None
    doc = document(record, events, None, "city", "Asia/Shanghai", None, None, "zh",
                   lab.clock.now())  # fmt: skip
    notes: list[Any] = [b.text for s in doc.sections for b in s.blocks if isinstance(b, Paragraph)]
    names = [p["name"] for p in events[-1].data["photos"]]
    assert any("现场照片（2 张" in n and all(name in n for name in names) for n in notes)
