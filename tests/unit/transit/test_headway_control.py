"""The holding rule, case by case."""

from __future__ import annotations

import pytest

from headway.optimizer.headway_control import (
    ControlPoint,
    HoldingRules,
    HoldReason,
    headway_cv,
    hold_for,
)

RULES = HoldingRules(max_hold_s=120.0, min_hold_s=5.0, gain=0.5)


def point(**kw: object) -> ControlPoint:
    base: dict[str, object] = {"vehicle_id": "v2", "stop_id": "s", "now": 1000.0}
    base.update(kw)
    return ControlPoint(**base)  # type: ignore[arg-type]


def test_a_vehicle_close_behind_its_leader_waits_until_halfway() -> None:
    # Left 60 s after the one ahead; the one behind arrives in 240 s: leave at +90 s,
    # so both gaps are 150 s.
    hold = hold_for(point(previous_departure=940.0, follower_arrival=1240.0), RULES)
    assert hold.hold_s == pytest.approx(90.0)
    assert hold.depart_at == pytest.approx(1090.0)
    assert hold.reason is HoldReason.EVEN_HEADWAYS
    assert hold.holds


def test_a_vehicle_with_a_long_gap_ahead_goes_at_once() -> None:
    hold = hold_for(point(previous_departure=700.0, follower_arrival=1100.0), RULES)
    assert hold.hold_s == 0.0
    assert not hold.holds


def test_holds_are_bounded() -> None:
    hold = hold_for(point(previous_departure=999.0, follower_arrival=2000.0), RULES)
    assert hold.hold_s == 120.0
    tiny = hold_for(point(previous_departure=990.0, follower_arrival=1016.0), RULES)
    assert tiny.hold_s == 0.0  # 3 s is below the 5 s worth sending


def test_without_a_follower_the_target_headway_is_approached_by_the_gain() -> None:
    hold = hold_for(point(previous_departure=900.0, target_headway_s=300.0), RULES)
    assert hold.hold_s == pytest.approx(0.5 * (300.0 - 100.0))
    assert hold.reason is HoldReason.TARGET_HEADWAY
    assert hold_for(point(previous_departure=900.0), RULES).hold_s == 0.0


def test_the_leader_is_never_held() -> None:
    hold = hold_for(point(previous_departure=None, follower_arrival=1500.0), RULES)
    assert hold.hold_s == 0.0
    assert hold.reason is HoldReason.LEADER


def test_never_held_past_the_schedule_on_a_timed_point() -> None:
    late_enough = point(
        previous_departure=940.0, follower_arrival=1240.0, scheduled_departure=1030.0,
        timed_point=True,
    )  # fmt: skip
    assert hold_for(late_enough, RULES).hold_s == pytest.approx(30.0)
    already_late = point(
        previous_departure=940.0, follower_arrival=1240.0, scheduled_departure=900.0,
        timed_point=True,
    )  # fmt: skip
    assert hold_for(already_late, RULES).hold_s == 0.0
    # Not a timed point: the schedule does not bound the hold.
    untimed = point(previous_departure=940.0, follower_arrival=1240.0, scheduled_departure=900.0)
    assert hold_for(untimed, RULES).hold_s == pytest.approx(90.0)


def test_an_early_vehicle_waits_for_its_time_on_a_timed_point() -> None:
    early = point(previous_departure=700.0, scheduled_departure=1060.0, timed_point=True)
    hold = hold_for(early, RULES)
    assert hold.hold_s == pytest.approx(60.0)
    assert hold.reason is HoldReason.SCHEDULE
    free = HoldingRules(no_early_departure=False)
    assert hold_for(early, free).hold_s == 0.0


def test_same_situation_same_hold() -> None:
    p = point(previous_departure=950.0, follower_arrival=1210.0, target_headway_s=240.0)
    assert hold_for(p, RULES) == hold_for(p, RULES)


def test_headway_cv() -> None:
    assert headway_cv([0, 100, 200, 300]) == 0.0
    assert headway_cv([0, 10, 200, 210, 400]) == pytest.approx(0.9, abs=0.01)
    assert headway_cv([5.0]) == 0.0
