"""On-call rotations: hand-overs at a local hour, overrides for leave and swaps, quiet hours."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from monitord.config import Config, ConfigError
from monitord.config.load import load
from monitord.config.oncall import QuietHours
from monitord.notify.oncall import (
    Directory,
    Override,
    Rotation,
    handover_at,
    next_handover,
    shift,
    who_is_on_call,
)
from monitord.notify.quiet import held_until, release

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
# 2026-03-02 is a Monday.
WEEKLY = Rotation("hz", "Asia/Shanghai", False, dt.time(9), dt.date(2026, 3, 2), ("a", "b", "c"))
DAILY = Rotation("night", "Asia/Shanghai", True, dt.time(18), dt.date(2026, 3, 2), ("a", "b"))


def sh(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SH)


class TestRotation:
    def test_weekly_hands_over_at_nine_local_on_the_start_weekday(self) -> None:
        assert who_is_on_call(WEEKLY, (), sh(2026, 3, 2, 9, 0)) == "a"
        assert who_is_on_call(WEEKLY, (), sh(2026, 3, 9, 8, 59, 59)) == "a"
        assert who_is_on_call(WEEKLY, (), sh(2026, 3, 9, 9, 0)) == "b"
        assert who_is_on_call(WEEKLY, (), sh(2026, 3, 16, 9, 0)) == "c"
        assert who_is_on_call(WEEKLY, (), sh(2026, 3, 23, 9, 0)) == "a"  # round again
        # The same instant written in UTC: 01:00 UTC is 09:00 in Shanghai.
        assert who_is_on_call(WEEKLY, (), dt.datetime(2026, 3, 9, 1, 0, tzinfo=dt.UTC)) == "b"
        assert who_is_on_call(WEEKLY, (), dt.datetime(2026, 3, 9, 0, 59, tzinfo=dt.UTC)) == "a"

    def test_before_the_start_the_turns_run_backwards(self) -> None:
        assert who_is_on_call(WEEKLY, (), sh(2026, 3, 2, 8, 59)) == "c"
        assert who_is_on_call(WEEKLY, (), sh(2026, 2, 23, 9, 0)) == "c"
        assert who_is_on_call(WEEKLY, (), sh(2026, 2, 16, 9, 0)) == "b"

    def test_daily_hand_over_in_the_evening(self) -> None:
        assert who_is_on_call(DAILY, (), sh(2026, 3, 2, 17, 59)) == "b"  # the day before's
        assert who_is_on_call(DAILY, (), sh(2026, 3, 2, 18, 0)) == "a"
        assert who_is_on_call(DAILY, (), sh(2026, 3, 3, 3, 0)) == "a"  # through the night
        assert who_is_on_call(DAILY, (), sh(2026, 3, 3, 18, 0)) == "b"
        assert next_handover(DAILY, sh(2026, 3, 3, 3, 0)) == sh(2026, 3, 3, 18, 0)

    def test_a_shanghai_year_has_no_shift_shorter_or_longer_than_a_week(self) -> None:
        t = handover_at(WEEKLY, WEEKLY.start)
        for _ in range(53):
            after = next_handover(WEEKLY, t)
            assert after - t == dt.timedelta(days=7)
            assert after.astimezone(SH).time() == dt.time(9)
            t = after

    def test_in_a_daylight_saving_zone_the_hand_over_stays_at_nine_local(self) -> None:
        rot = Rotation("de", "Europe/Berlin", True, dt.time(9), dt.date(2026, 3, 27), ("x", "y"))
        # Summer time starts on Sunday 2026-03-29 at 02:00: that shift is 23 hours long.
        before = handover_at(rot, dt.date(2026, 3, 28))
        after = next_handover(rot, before)
        assert after - before == dt.timedelta(hours=23)
        assert after.astimezone(BERLIN).time() == dt.time(9)
        assert who_is_on_call(rot, (), after - dt.timedelta(seconds=1)) == "y"
        assert who_is_on_call(rot, (), after) == "x"
        # Winter time (2026-10-25): a 25-hour shift.
        start = handover_at(rot, dt.date(2026, 10, 24))
        assert next_handover(rot, start) - start == dt.timedelta(hours=25)


class TestOverrides:
    def test_leave_replaces_only_the_person_on_leave(self) -> None:
        leave = Override(sh(2026, 3, 1), sh(2026, 3, 20), person="c", replaces="a")
        assert who_is_on_call(WEEKLY, [leave], sh(2026, 3, 4, 12)) == "c"  # a's week
        assert who_is_on_call(WEEKLY, [leave], sh(2026, 3, 11, 12)) == "b"  # b's week
        assert who_is_on_call(WEEKLY, [leave], sh(2026, 3, 25, 12)) == "a"  # leave over

    def test_a_swap_is_two_overrides_and_ends_on_time(self) -> None:
        swap = [
            Override(sh(2026, 3, 2, 9), sh(2026, 3, 16, 9), person="b", replaces="a"),
            Override(sh(2026, 3, 2, 9), sh(2026, 3, 16, 9), person="a", replaces="b"),
        ]
        assert who_is_on_call(WEEKLY, swap, sh(2026, 3, 3)) == "b"  # a's week
        assert who_is_on_call(WEEKLY, swap, sh(2026, 3, 10)) == "a"  # b's week
        assert who_is_on_call(WEEKLY, swap, sh(2026, 3, 17)) == "c"
        assert who_is_on_call(WEEKLY, swap, sh(2026, 3, 24)) == "a"  # back to the turns

    def test_the_last_matching_override_wins(self) -> None:
        leave = Override(sh(2026, 3, 1), sh(2026, 3, 8), person="b", replaces="a")
        sick = Override(sh(2026, 3, 4), sh(2026, 3, 5), person="c")  # b is ill for a day
        assert who_is_on_call(WEEKLY, [leave, sick], sh(2026, 3, 4, 12)) == "c"
        assert who_is_on_call(WEEKLY, [leave, sick], sh(2026, 3, 5, 12)) == "b"

    def test_an_override_without_replaces_covers_anyone(self) -> None:
        cover = Override(sh(2026, 3, 3, 12), sh(2026, 3, 3, 14), person="z")
        assert who_is_on_call(WEEKLY, [cover], sh(2026, 3, 3, 11, 59)) == "a"
        assert who_is_on_call(WEEKLY, [cover], sh(2026, 3, 3, 12)) == "z"
        assert who_is_on_call(WEEKLY, [cover], sh(2026, 3, 3, 14)) == "a"  # until is exclusive

    def test_shift_says_since_when_until_when_and_who_is_next(self) -> None:
        cover = Override(sh(2026, 3, 3, 12), sh(2026, 3, 3, 14), person="z", replaces="a")
        s = shift(WEEKLY, [cover], sh(2026, 3, 3, 13))
        assert (s.person, s.covering, s.next_person) == ("z", "a", "a")
        assert (s.start, s.end) == (sh(2026, 3, 3, 12), sh(2026, 3, 3, 14))
        s = shift(WEEKLY, [cover], sh(2026, 3, 4))
        assert (s.person, s.start, s.end, s.next_person) == (
            "a", sh(2026, 3, 3, 14), sh(2026, 3, 9, 9), "b",
        )  # fmt: skip
        # An override that runs across the hand-over: the change is when it ends.
        long = Override(sh(2026, 3, 8), sh(2026, 3, 10), person="z")
        s = shift(WEEKLY, [long], sh(2026, 3, 9, 12))
        assert (s.person, s.start, s.end, s.next_person) == (
            "z", sh(2026, 3, 8), sh(2026, 3, 10), "b",
        )  # fmt: skip

    def test_a_one_person_rotation_never_changes(self) -> None:
        alone = Rotation("one", "Asia/Shanghai", True, dt.time(9), dt.date(2026, 3, 2), ("a",))
        s = shift(alone, (), sh(2026, 3, 5))
        assert (s.person, s.start, s.end, s.next_person) == ("a", None, None, None)


def config(**notify: object) -> Config:
    return Config.model_validate(
        {
            "sites": [
                {"id": "s1", "name": "S1", "contract": "c1", "timezone": "Asia/Urumqi"},
                {"id": "s2", "name": "S2", "contract": "c1"},
            ],
            "notify": {
                "channels": [{"type": "email", "name": "mail", "host": "h", "sender": "m@x"}],
                **notify,
            },
        }
    )


PEOPLE = [
    {"id": "a", "name": "张伟", "email": "a@example.com", "phone": "+8613800000001"},
    {"id": "b", "name": "李娜", "language": "en"},
]


class TestConfig:
    def test_directory_resolves_zones_overrides_and_roles(self) -> None:
        rotation = {
            "id": "r1", "sites": ["s1"], "start": "2026-03-02", "people": ["a", "b"],
            "overrides": [{"from": "2026-03-03T00:00", "until": "2026-03-04T00:00",
                           "person": "b", "replaces": "a"}],
        }  # fmt: skip
        c = config(
            oncall={"people": PEOPLE, "rotations": [rotation], "roles": {"*": {"manager": "b"}}}
        )
        d = Directory.from_config(c)
        [(rot, [override])] = d.rotations
        assert rot.timezone == "Asia/Urumqi"  # the covered site's zone
        urumqi = ZoneInfo("Asia/Urumqi")
        assert override.start == dt.datetime(2026, 3, 3, tzinfo=urumqi)  # read in that zone
        assert d.rotation_for("c1", "s2") is None  # covers s1 only
        person = d.on_call("c1", "s1", dt.datetime(2026, 3, 3, 12, tzinfo=urumqi))
        assert person is not None and person.id == "b"
        manager = d.in_role("c1", "manager")
        assert manager is not None and manager.name == "李娜"

    @pytest.mark.parametrize(
        ("notify", "says"),
        [
            ({"oncall": {"people": PEOPLE, "rotations": [
                {"id": "r", "contracts": ["c1"], "start": "2026-03-02", "people": ["zz"]}]}},
             "no person 'zz'"),
            ({"oncall": {"people": PEOPLE}, "escalation": [
                {"id": "p", "classes": ["A"], "steps": [{"targets": ["oncall"],
                                                         "channels": ["sms"]}]}]},
             "no channel named 'sms'"),
            ({"oncall": {"people": PEOPLE}, "escalation": [
                {"id": "p", "classes": ["A"], "steps": [{"targets": ["role:boss"],
                                                         "channels": ["mail"]}]}]},
             "no role 'boss'"),
            ({"escalation": [{"id": "p", "classes": ["A"], "steps": [
                {"after": "15m", "targets": ["oncall"], "channels": ["mail"]},
                {"after": "5m", "targets": ["oncall"], "channels": ["mail"]}]}]},
             "in order"),
            ({"quiet_hours": [{"from": "22:00", "until": "07:00", "classes": ["A"]}]},
             "classes"),
            ({"oncall": {"rotations": [{"id": "r", "start": "2026-03-02", "people": ["a"]}]}},
             "contracts or sites"),
        ],
    )  # fmt: skip
    def test_mistakes_are_named(self, notify: dict[str, object], says: str) -> None:
        with pytest.raises(ValidationError, match=says):
            config(**notify)


NIGHT = QuietHours.model_validate({"from": "22:00", "until": "07:00"})


class TestQuietHours:
    def test_c_and_d_wait_until_morning_a_and_b_never(self) -> None:
        at = sh(2026, 3, 2, 23, 30)
        morning = sh(2026, 3, 3, 7, 0)
        assert held_until([NIGHT], "c1", "s1", "Asia/Shanghai", "C", at) == morning
        assert held_until([NIGHT], "c1", "s1", "Asia/Shanghai", "D", sh(2026, 3, 3, 6)) == morning
        assert held_until([NIGHT], "c1", "s1", "Asia/Shanghai", "A", at) is None
        assert held_until([NIGHT], "c1", "s1", "Asia/Shanghai", "B", at) is None
        assert held_until([NIGHT], "c1", "s1", "Asia/Shanghai", "C", sh(2026, 3, 3, 7)) is None
        assert held_until([NIGHT], "c1", "s1", "Asia/Shanghai", "C", sh(2026, 3, 2, 21)) is None

    def test_the_site_zone_decides_and_scopes_apply(self) -> None:
        at = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)  # 23:30 Shanghai, 21:30 Urumqi
        assert held_until([NIGHT], "c1", "s1", "Asia/Urumqi", "C", at) is None
        assert held_until([NIGHT], "c1", "s1", "Asia/Shanghai", "C", at) is not None
        scoped = NIGHT.model_copy(update={"sites": ("s9",)})
        assert held_until([scoped], "c1", "s1", "Asia/Shanghai", "C", at) is None

    def test_overlapping_periods_hold_until_the_last_ends(self) -> None:
        early = QuietHours.model_validate({"from": "05:00", "until": "08:00"})
        assert release([NIGHT, early], "c", "s", "Asia/Shanghai", "C", sh(2026, 3, 2, 23)) == sh(
            2026, 3, 3, 8
        )


def test_unquoted_yaml_times_are_hours_and_minutes() -> None:
    # YAML 1.1 reads 22:00 as the integer 1320 (base 60); it must not become 00:22.
    q = QuietHours.model_validate(yaml.safe_load("{from: 22:00, until: 07:00}"))
    assert (q.start, q.until) == (dt.time(22), dt.time(7))
    with pytest.raises(ValidationError, match="not a time of day"):
        QuietHours.model_validate({"from": "10pm", "until": "07:00"})


def test_unknown_contracts_and_sites_are_reported_where_they_are(tmp_path: Path) -> None:
    text = """
sites: [{id: s1, name: S1}]
notify:
  oncall:
    people: [{id: a, name: A}]
    rotations: [{id: r, contracts: [nope], start: 2026-03-02, people: [a]}]
  quiet_hours: [{from: 22:00, until: 07:00, sites: [s9]}]
"""
    path = tmp_path / "monitord.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path)
    shown = [str(issue) for issue in caught.value.issues]
    assert any("unknown contract 'nope'" in s and "rotations" in s for s in shown), shown
    assert any("unknown site 's9'" in s and "quiet_hours" in s for s in shown), shown
