"""Maintenance windows: scopes, one-off and cron occurrences in the site's time zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from monitord.config import Config
from monitord.prevention.windows import WindowBook, windows_overlapping
from monitord.store.records import WindowRecord

UTC = dt.UTC


def config(*windows: dict[str, Any]) -> Config:
    return Config.model_validate(
        {
            "sites": [
                {"id": "sh", "name": "Shanghai", "timezone": "Asia/Shanghai"},
                {"id": "ldn", "name": "London", "timezone": "Europe/London"},
            ],
            "devices": [
                {"id": "nvr-sh", "name": "n", "kind": "nvr", "address": "10.0.0.1", "site": "sh"},
                {
                    "id": "cam-sh",
                    "name": "c",
                    "kind": "camera",
                    "address": "10.0.0.2",
                    "site": "sh",
                },
                {"id": "nvr-ldn", "name": "n", "kind": "nvr", "address": "10.0.1.1", "site": "ldn"},
            ],
            "maintenance": list(windows),
        }
    )


def book(*windows: dict[str, Any], stored: list[WindowRecord] | None = None) -> WindowBook:
    class Windows:
        def ending_after(self, at: dt.datetime) -> list[WindowRecord]:
            return [w for w in stored or [] if w.ends_at > at]

        def between(self, start: dt.datetime, end: dt.datetime | None) -> list[WindowRecord]:
            return [
                w for w in stored or [] if w.ends_at > start and (end is None or w.starts_at < end)
            ]

    class Stored:
        windows = Windows()

    return WindowBook(config(*windows), Stored(), lambda: 0.0)


WEEKLY_NVR = {"id": "sunday-nvr", "kind": "nvr", "cron": "0 2 * * 0", "duration": "2h",
              "reason": "weekly NVR maintenance"}  # fmt: skip


def test_a_cron_window_is_read_in_each_sites_time_zone() -> None:
    b = book(WEEKLY_NVR)
    # Sunday 2026-06-07 02:00 in Shanghai is Saturday 18:00 UTC; in London (BST) 01:00 UTC.
    sh = dt.datetime(2026, 6, 6, 18, 0, tzinfo=UTC)
    assert b.covers("nvr-sh", sh) and b.covers("nvr-sh", sh + dt.timedelta(minutes=119))
    assert not b.covers("nvr-sh", sh - dt.timedelta(seconds=1))
    assert not b.covers("nvr-sh", sh + dt.timedelta(hours=2))  # the end is not covered
    assert not b.covers("nvr-ldn", sh)
    assert b.covers("nvr-ldn", dt.datetime(2026, 6, 7, 1, 30, tzinfo=UTC))
    assert not b.covers("cam-sh", sh)  # kind scope: only NVRs
    assert b.cover_ends("nvr-sh", sh + dt.timedelta(minutes=5)) == sh + dt.timedelta(hours=2)


def test_one_off_windows_naive_times_are_site_local() -> None:
    b = book({"id": "move", "site": "sh", "start": "2026-06-10T09:00", "end": "2026-06-10T12:00"})
    assert b.covers("cam-sh", dt.datetime(2026, 6, 10, 1, 0, tzinfo=UTC))  # 09:00 +08
    assert not b.covers("cam-sh", dt.datetime(2026, 6, 10, 4, 0, tzinfo=UTC))
    assert not b.covers("nvr-ldn", dt.datetime(2026, 6, 10, 1, 0, tzinfo=UTC))


def test_stored_windows_cover_their_scope_and_chain_with_configured_ones() -> None:
    at = dt.datetime(2026, 6, 6, 17, 0, tzinfo=UTC)
    by_hand = WindowRecord(7, None, "nvr-sh", None, at, at + dt.timedelta(hours=1), "swap disk",
                           "li", at)  # fmt: skip
    b = book(WEEKLY_NVR, stored=[by_hand])
    assert b.covers("nvr-sh", at) and not b.covers("cam-sh", at)
    [cover] = b.covering("nvr-sh", at)
    assert (cover.source, cover.reason) == ("#7", "swap disk")
    # The hand window runs into the Sunday one: the cover ends when the latter does.
    assert b.cover_ends("nvr-sh", at) == dt.datetime(2026, 6, 6, 20, 0, tzinfo=UTC)


def test_overlapping_windows_are_clipped_and_merged_for_reports() -> None:
    june = dt.datetime(2026, 6, 1, tzinfo=UTC), dt.datetime(2026, 7, 1, tzinfo=UTC)
    spans = windows_overlapping(config(WEEKLY_NVR), None, "nvr-sh", *june)
    assert len(spans) == 4  # the Sundays 7, 14, 21 and 28 June
    assert all(e - s == dt.timedelta(hours=2) for s, e in spans)
    assert spans[0][0] == dt.datetime(2026, 6, 6, 18, 0, tzinfo=UTC)
    first = dt.datetime(2026, 5, 30, 19, 0, tzinfo=UTC)  # Sunday 31 May 03:00 local
    clipped = windows_overlapping(config(WEEKLY_NVR), None, "nvr-sh", first, june[1])
    assert clipped[0] == (first, dt.datetime(2026, 5, 30, 20, 0, tzinfo=UTC))
    assert windows_overlapping(config(WEEKLY_NVR), None, "cam-sh", *june) == []


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"id": "w", "cron": "0 2 * * 0", "duration": "1h"}, "needs a scope"),
        ({"id": "w", "site": "sh", "cron": "61 2 * * 0", "duration": "1h"}, "cron expression"),
        ({"id": "w", "site": "sh", "cron": "0 2 * * 0"}, "needs 'duration'"),
        ({"id": "w", "site": "sh", "start": "2026-06-01T02:00"}, "either 'end' or 'duration'"),
        ({"id": "w", "site": "sh"}, "either 'start'"),
        (
            {"id": "w", "site": "sh", "start": "2026-06-01T02:00", "end": "2026-06-01T01:00"},
            "after 'start'",
        ),
    ],
)
def test_bad_windows_say_what_is_wrong(window: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        config(window)
