"""The ticket list and "Mine" at size: 50 tickets a page, soonest breach first across pages,
the filters kept in the links; a change shows on the next request (the lists keep rows and
clocks between requests, console/ticket_memo.py)."""

from __future__ import annotations

import re

from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind
from tests.support.consolelab import ConsoleLab

CARD = re.compile(r'<a href="/console/tickets/(\d+)">')


async def test_the_list_pages_fifty_at_a_time_with_its_filters_and_shows_changes(
    console: ConsoleLab,
) -> None:
    contract = next(c for c in console.config.contracts if c.id == "seed-000")
    opened = []
    for i in range(60):  # one a minute: the oldest is the soonest to breach
        at = console.clock.now()
        opened.append(tickets.open_hotline(console.store, contract, "s1", "caller", f"call {i}",
                                           at).id)  # fmt: skip
        await console.clock.advance(60)
    disp = await console.sign_in("disp")
    first = await disp.get("/console/tickets", params={"cls": "hotline", "site": "s1"})
    shown = [int(x) for x in CARD.findall(first.text)]
    assert shown == opened[:50]
    assert 'href="/console/tickets?site=s1&amp;cls=hotline&amp;page=2" rel="next"' in first.text
    assert 'rel="prev"' not in first.text and "1 / 2 (60)" in first.text
    second = await disp.get("/console/tickets", params={"cls": "hotline", "site": "s1", "page": 2})
    assert [int(x) for x in CARD.findall(second.text)] == opened[50:]
    assert 'href="/console/tickets?site=s1&amp;cls=hotline&amp;page=1" rel="prev"' in second.text
    beyond = await disp.get("/console/tickets", params={"page": 99})  # the last page, not empty
    assert [int(x) for x in CARD.findall(beyond.text)] == opened[50:]
    # A change between two requests is on the next one: the acknowledged ticket's clock met.
    tickets.append(console.store, opened[0], EventKind.ACKNOWLEDGED, "eng", console.clock.now())
    again = await disp.get("/console/tickets", params={"cls": "hotline"})
    assert int(CARD.findall(again.text)[0]) != opened[0]
    eng = await console.sign_in("eng")
    mine = await eng.get("/console/mine")
    assert len(CARD.findall(mine.text)) == 50 and "1 / 2" in mine.text
