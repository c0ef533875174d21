"""Report pieces that need no store: availability arithmetic, periods, charts, escaping."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from monitord.reports import html, markdown, period
from monitord.reports.availability import uptime
from monitord.reports.document import Chart, Document, Paragraph, Section, Table, Text
from monitord.reports.svg import Bar

T0 = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)
STATES = ["up", "down", "unreachable", "degraded", "flapping", "pending"]


def _sampled(initial, moves, windows, length):  # type: ignore[no-untyped-def]
    """The same figures by looking at each minute on its own."""
    observed = down = 0
    for m in range(length):
        t = T0 + m * MIN
        if any(s <= t < e for s, e in windows):
            continue
        state = initial
        for at, to in moves:
            if at <= t:
                state = to
        if state not in (None, "pending"):
            observed += 1
            down += state in ("down", "unreachable")
    failures, state = 0, initial
    for at, to in moves:
        bad = ("down", "unreachable")
        if to in bad and state not in bad and not any(s <= at < e for s, e in windows):
            failures += 1
        state = to
    return observed, down, failures


@settings(max_examples=150, deadline=None)
@given(
    initial=st.sampled_from([None, *STATES]),
    moves=st.lists(st.tuples(st.integers(0, 299), st.sampled_from(STATES)), max_size=12),
    windows=st.lists(st.tuples(st.integers(-50, 320), st.integers(1, 90)), max_size=3),
)
def test_uptime_equals_counting_minutes(initial, moves, windows) -> None:  # type: ignore[no-untyped-def]
    length = 300
    ordered = sorted(((T0 + m * MIN, s) for m, s in moves), key=lambda x: x[0])
    spans = [(T0 + s * MIN, T0 + (s + n) * MIN) for s, n in windows]
    got = uptime(initial, ordered, T0, T0 + length * MIN, spans)
    observed, down, failures = _sampled(initial, ordered, spans, length)
    assert (got.observed, got.down, got.failures) == (observed * MIN, down * MIN, failures)


def test_a_device_never_seen_has_no_availability() -> None:
    assert uptime(None, [], T0, T0 + MIN).availability is None


def test_months_follow_the_time_zone_and_leap_years() -> None:
    feb = period.month("2028-02", "Asia/Shanghai", T0)
    assert feb.start == dt.datetime(2028, 1, 31, 16, tzinfo=dt.UTC)
    assert feb.end - feb.start == dt.timedelta(days=29)
    dec = period.month("2026-12", "UTC", dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert dec.end == dt.datetime(2027, 1, 1, tzinfo=dt.UTC) and dec.complete
    future = period.month("2027-05", "UTC", T0)
    assert future.as_of == future.start  # nothing counted yet


def test_device_and_customer_text_cannot_inject_markup() -> None:
    evil = '<script>alert(1)</script><img src="http://example.com/x">'
    doc = Document(
        evil,
        "en",
        (("k", evil),),
        (
            Section(
                evil,
                (
                    Paragraph(evil),
                    Table((evil,), ((evil + " | x",),)),
                    Chart(evil, (Bar(evil, 1.0, evil),), 1.0),
                    Text(evil + "\n```\nafter"),
                ),
            ),
        ),
    )
    page = html.render(doc)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page
    md = markdown.render(doc)
    assert "\\| x" in md  # a pipe in a cell does not split the table
    assert "~~~~text" in md  # a fence inside a document does not end its block


def test_chart_bars_are_proportional() -> None:
    from monitord.reports.svg import bars

    svg = bars("t", (Bar("a", 50, "50"), Bar("b", 100, "100")), 100.0)
    assert 'width="180.0"' in svg and 'width="360.0"' in svg
