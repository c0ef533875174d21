"""Health tracking: confirmation, degradation, topology and flapping, on literal outcomes."""

from __future__ import annotations

import datetime as dt

from monitord.checks.icmp.evaluate import Outcome
from monitord.config.models import IcmpSettings
from monitord.health.states import State, StateType
from monitord.health.tracker import HealthTracker, Transition
from monitord.inventory.topology import Topology

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
UP = Outcome(State.UP, "ICMP: replies", loss_pct=0.0)
DOWN = Outcome(State.DOWN, "ICMP: no reply to 3 echo requests", loss_pct=100.0)
LOSSY = Outcome(State.DEGRADED, "ICMP: 40% loss (threshold 20%)", loss_pct=40.0)


class Lab:
    """A tracker plus a clock that moves one second per observation."""

    def __init__(self, parents: dict[str, tuple[str, ...]], attempts: int = 3) -> None:
        settings = IcmpSettings(max_attempts=attempts)
        self.tracker = HealthTracker(dict.fromkeys(parents, settings), Topology(parents))
        self.now = T0
        self.log: list[Transition] = []
        self.rechecks: list[str] = []

    def see(self, device: str, outcome: Outcome, times: int = 1) -> list[Transition]:
        news: list[Transition] = []
        for _ in range(times):
            self.now += dt.timedelta(seconds=1)
            verdict = self.tracker.observe(device, outcome, self.now)
            news += verdict.transitions
            self.rechecks += verdict.recheck
        self.log += news
        return news

    def state(self, device: str) -> State:
        return self.tracker.devices[device].state

    def changes(self) -> list[tuple[str, State, State]]:
        return [(t.device_id, t.from_state, t.to_state) for t in self.log]


class TestConfirmation:
    def test_first_reply_makes_device_up(self) -> None:
        lab = Lab({"cam": ()})
        assert [(t.from_state, t.to_state) for t in lab.see("cam", UP)] == [
            (State.PENDING, State.UP)
        ]

    def test_down_is_confirmed_after_max_attempts_and_not_before(self) -> None:
        lab = Lab({"cam": ()}, attempts=3)
        lab.see("cam", UP)
        assert lab.see("cam", DOWN, times=2) == []
        assert lab.tracker.devices["cam"].state_type == StateType.SOFT
        assert lab.state("cam") == State.UP
        news = lab.see("cam", DOWN)
        assert [(t.from_state, t.to_state) for t in news] == [(State.UP, State.DOWN)]
        assert news[0].reason == DOWN.reason
        assert news[0].observation["loss_pct"] == 100.0

    def test_single_lost_check_never_confirms(self) -> None:
        lab = Lab({"cam": ()})
        lab.see("cam", UP)
        for _ in range(4):
            lab.see("cam", DOWN, times=2)  # one short of max_attempts
            lab.see("cam", UP, times=8)
        assert lab.changes() == [("cam", State.PENDING, State.UP)]

    def test_retry_interval_applies_while_soft(self) -> None:
        lab = Lab({"cam": ()})
        lab.see("cam", UP)
        verdict = lab.tracker.observe("cam", DOWN, T0)
        assert verdict.next_check_in == IcmpSettings().retry_interval
        assert lab.tracker.observe("cam", UP, T0).next_check_in == IcmpSettings().interval

    def test_partial_loss_is_degraded_after_confirmation(self) -> None:
        lab = Lab({"sw": ()})
        lab.see("sw", UP)
        lab.see("sw", LOSSY, times=3)
        assert lab.state("sw") == State.DEGRADED

    def test_recovery_is_immediate_and_logged_once(self) -> None:
        lab = Lab({"cam": ()})
        lab.see("cam", UP)
        lab.see("cam", DOWN, times=5)
        lab.see("cam", UP, times=3)
        assert lab.changes() == [
            ("cam", State.PENDING, State.UP),
            ("cam", State.UP, State.DOWN),
            ("cam", State.DOWN, State.UP),
        ]

    def test_restored_down_state_repeats_nothing(self) -> None:
        lab = Lab({"cam": ()})
        lab.tracker.restore("cam", State.DOWN, T0)
        assert lab.see("cam", DOWN, times=4) == []
        assert lab.state("cam") == State.DOWN


def camera_behind_dead_switch() -> Lab:
    """A switch and its camera, both UP, then both unanswering until confirmed."""
    lab = Lab({"sw": (), "cam": ("sw",)})
    lab.see("sw", UP)
    lab.see("cam", UP)
    lab.see("sw", DOWN, times=3)
    lab.see("cam", DOWN, times=3)
    return lab


class TestTopology:
    def test_child_of_down_switch_is_unreachable_not_down(self) -> None:
        lab = camera_behind_dead_switch()
        assert lab.state("sw") == State.DOWN
        assert lab.state("cam") == State.UNREACHABLE
        assert lab.log[-1].reason == "all parents down: sw"

    def test_child_waits_for_parent_that_is_failing_but_unconfirmed(self) -> None:
        lab = Lab({"sw": (), "cam": ("sw",)})
        lab.see("sw", UP)
        lab.see("cam", UP)
        lab.see("cam", DOWN)
        assert lab.rechecks == ["sw"]  # the uplink is checked at once
        lab.see("sw", DOWN)
        lab.see("cam", DOWN, times=4)
        assert lab.state("cam") == State.UP  # held: its parent is not confirmed yet
        lab.see("sw", DOWN, times=2)
        lab.see("cam", DOWN)
        assert lab.state("cam") == State.UNREACHABLE

    def test_child_confirmed_down_first_becomes_unreachable_when_parent_confirms(self) -> None:
        lab = Lab({"sw": (), "cam": ("sw",), "cam2": ("cam",)})
        for d in ("sw", "cam", "cam2"):
            lab.see(d, UP)
        lab.see("cam", DOWN, times=3)
        lab.see("cam2", DOWN, times=3)
        assert (lab.state("cam"), lab.state("cam2")) == (State.DOWN, State.UNREACHABLE)
        news = lab.see("sw", DOWN, times=3)
        assert [(t.device_id, t.to_state) for t in news] == [
            ("sw", State.DOWN),
            ("cam", State.UNREACHABLE),
        ]

    def test_one_of_two_parents_down_leaves_child_up(self) -> None:
        lab = Lab({"a": (), "b": (), "nvr": ("a", "b")})
        for d in ("a", "b", "nvr"):
            lab.see(d, UP)
        lab.see("a", DOWN, times=3)
        lab.see("nvr", UP, times=3)
        assert lab.state("nvr") == State.UP
        lab.see("nvr", DOWN, times=3)
        assert lab.state("nvr") == State.DOWN  # b is up, so this is nvr's own fault

    def test_both_parents_down_makes_child_unreachable(self) -> None:
        lab = Lab({"a": (), "b": (), "nvr": ("a", "b")})
        for d in ("a", "b", "nvr"):
            lab.see(d, UP)
        lab.see("a", DOWN, times=3)
        lab.see("b", DOWN, times=3)
        lab.see("nvr", DOWN, times=3)
        assert lab.state("nvr") == State.UNREACHABLE

    def test_parent_recovery_rechecks_children_and_they_come_back(self) -> None:
        lab = camera_behind_dead_switch()
        lab.rechecks.clear()
        lab.see("sw", UP)
        assert lab.rechecks == ["cam"]
        lab.see("cam", UP)
        assert lab.state("cam") == State.UP

    def test_unreachable_child_still_dead_after_parent_recovers_is_confirmed_down(
        self,
    ) -> None:
        lab = camera_behind_dead_switch()
        lab.see("sw", UP)
        lab.see("cam", DOWN)  # may be a check that started before the switch came back
        assert lab.state("cam") == State.UNREACHABLE
        lab.see("cam", DOWN, times=2)
        assert lab.state("cam") == State.DOWN
        assert lab.log[-1].reason == DOWN.reason

    def test_stale_failure_after_parent_recovery_is_not_a_fault(self) -> None:
        lab = camera_behind_dead_switch()
        lab.see("sw", UP)
        lab.see("cam", DOWN)
        lab.see("cam", UP)
        assert [t for t in lab.changes() if t[0] == "cam"] == [
            ("cam", State.PENDING, State.UP),
            ("cam", State.UP, State.UNREACHABLE),
            ("cam", State.UNREACHABLE, State.UP),
        ]


class TestFlapping:
    def test_alternating_device_is_flapping_not_a_stream_of_changes(self) -> None:
        lab = Lab({"cam": ()}, attempts=1)
        lab.see("cam", UP)
        for _ in range(10):
            lab.see("cam", DOWN)
            lab.see("cam", UP)
        assert lab.state("cam") == State.FLAPPING
        to_states = [t.to_state for t in lab.log]
        assert to_states.count(State.FLAPPING) == 1
        assert lab.log[-1].to_state == State.FLAPPING  # the later changes were absorbed
        assert len(lab.log) <= 8  # 21 alternating outcomes, at most 8 announced

    def test_flapping_ends_with_hysteresis_when_calm(self) -> None:
        lab = Lab({"cam": ()}, attempts=1)
        lab.see("cam", UP)
        for _ in range(10):
            lab.see("cam", DOWN)
            lab.see("cam", UP)
        assert lab.state("cam") == State.FLAPPING
        lab.see("cam", UP, times=20)
        assert lab.state("cam") == State.UP
        assert lab.log[-1].reason.startswith("flapping stopped")
        assert [t.to_state for t in lab.log].count(State.FLAPPING) == 1

    def test_detector_keeps_flapping_between_the_thresholds(self) -> None:
        from monitord.health.flapping import FlapDetector

        detector = FlapDetector(window=20, high_pct=30, low_pct=25)
        for state in [State.UP, State.DOWN] * 6:
            detector.add(state)
        assert detector.flapping
        between = []
        for _ in range(20):
            detector.add(State.UP)
            if 25 <= detector.change_pct() <= 30:
                between.append(detector.flapping)
        assert between and all(between)
        assert not detector.flapping
        fresh = FlapDetector(window=20, high_pct=30, low_pct=25)
        assert fresh.add(State.UP) is None and not fresh.flapping


class TestRecoveryIsNotANewFault:
    """Issue 18: a check straddling the heal loses 1-2 echoes; that is recovery, not news."""

    def down_lab(self) -> Lab:
        lab = Lab({"cam": ()}, attempts=3)
        lab.see("cam", UP)
        lab.see("cam", DOWN, times=3)
        assert lab.state("cam") == State.DOWN
        return lab

    def test_partial_answer_then_clean_check_is_up_without_degraded(self) -> None:
        for lossy_checks in (1, 2):
            lab = self.down_lab()
            assert lab.see("cam", LOSSY, times=lossy_checks) == []
            assert lab.state("cam") == State.DOWN
            lab.see("cam", UP)
            assert lab.changes()[1:] == [
                ("cam", State.UP, State.DOWN),
                ("cam", State.DOWN, State.UP),
            ]

    def test_partial_answers_are_retried_at_the_retry_interval(self) -> None:
        lab = self.down_lab()
        verdict = lab.tracker.observe("cam", LOSSY, lab.now)
        assert verdict.transitions == []
        assert verdict.next_check_in == IcmpSettings().retry_interval

    def test_degraded_after_down_needs_max_attempts_in_a_row(self) -> None:
        lab = self.down_lab()
        lab.see("cam", LOSSY, times=2)
        lab.see("cam", DOWN)  # the count starts again
        assert lab.see("cam", LOSSY, times=2) == []
        news = lab.see("cam", LOSSY)
        assert [(t.from_state, t.to_state) for t in news] == [(State.DOWN, State.DEGRADED)]

    def test_down_after_degraded_is_confirmed_too(self) -> None:
        lab = Lab({"cam": ()}, attempts=3)
        lab.see("cam", UP)
        lab.see("cam", LOSSY, times=3)
        assert lab.state("cam") == State.DEGRADED
        assert lab.see("cam", DOWN, times=2) == []
        lab.see("cam", LOSSY)
        assert lab.see("cam", DOWN, times=2) == []
        news = lab.see("cam", DOWN)
        assert [(t.from_state, t.to_state) for t in news] == [(State.DEGRADED, State.DOWN)]

    def test_unreachable_child_still_cut_off_keeps_its_normal_interval(self) -> None:
        lab = camera_behind_dead_switch()
        assert lab.state("cam") == State.UNREACHABLE
        verdict = lab.tracker.observe("cam", DOWN, lab.now)
        assert verdict.transitions == []
        assert verdict.next_check_in == IcmpSettings().interval
