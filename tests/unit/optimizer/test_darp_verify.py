"""The independent verifier: each kind of violation on hand-made routes, and exactness."""

from __future__ import annotations

import pytest

from headway.optimizer.darp import CordeauInstance, verify
from headway.optimizer.darp.verify_schedule import RouteData, eight_step, exact_schedule
from tests.unit.optimizer.darp_cases import tiny

GOOD = [[0, 1, 3, 5], [0, 2, 4, 5]]


def test_a_feasible_solution_passes_and_its_cost_is_the_distance() -> None:
    verdict = verify(tiny(), GOOD)
    assert verdict.feasible, verdict.violations
    assert verdict.cost == pytest.approx((1 + 2 + 3) + (2 + 2 + 4))


def test_routes_may_leave_out_the_depots_and_idle_vehicles() -> None:
    assert verify(tiny(), [[1, 3], [2, 4]]).feasible
    assert verify(tiny(capacity=2), [[0, 1, 2, 3, 4, 5], [0, 5]]).feasible


@pytest.mark.parametrize(
    ("instance", "routes", "kind"),
    [
        (tiny(), [[0, 1, 2, 3, 4, 5]], "capacity"),
        (tiny(windows={3: (0, 2)}), GOOD, "time_window"),
        (tiny(capacity=2, max_ride=2), [[0, 1, 2, 3, 4, 5]], "ride_time"),
        (tiny(max_duration=5), GOOD, "duration"),
        (tiny(), [[0, 1, 4, 5], [0, 2, 3, 5]], "pairing"),
        (tiny(), [[0, 1, 3, 5], [0, 2, 5]], "pairing"),
        (tiny(), [[0, 3, 1, 5], [0, 2, 4, 5]], "precedence"),
        (tiny(), [[0, 1, 3, 5]], "missing"),
        (tiny(), [[0, 1, 3, 2, 4, 5], [0, 2, 4, 5]], "duplicate"),
        (tiny(), [[0, 1, 3, 5], [0, 2, 5], [0, 4, 5]], "fleet_size"),
        (tiny(), [[0, 1, 3, 9, 5], [0, 2, 4, 5]], "unknown_node"),
        (tiny(), [[0, 1, 3], [0, 2, 4, 5]], "depot"),
    ],
)
def test_each_kind_of_violation_is_caught(
    instance: CordeauInstance, routes: list[list[int]], kind: str
) -> None:
    verdict = verify(instance, routes)
    assert not verdict.feasible
    assert kind in verdict.kinds(), [str(v) for v in verdict.violations]


def test_violations_say_where_and_by_how_much() -> None:
    verdict = verify(tiny(windows={3: (0, 2)}), GOOD)
    assert [str(v) for v in verdict.violations] == [
        "time_window: route 0: node 3 served at 4.000, window [0, 2] (over by 2.000)"
    ]


def test_waiting_is_allowed_and_the_start_may_be_delayed() -> None:
    # Node 3 opens at 50. With a ride limit of 3 the vehicle must not wait with the rider
    # on board, so it picks up late; a duration limit of 10 also forces a late start.
    instance = tiny(max_ride=3, max_duration=10, windows={3: (50, 60)})
    verdict = verify(instance, GOOD)
    assert verdict.feasible, verdict.violations
    start = verdict.schedules[0]
    assert start[2] == pytest.approx(50)
    assert start[2] - (start[1] + 1) <= 3 + 1e-9
    assert start[0] >= 44 - 1e-9
    assert not verify(tiny(max_ride=3, max_duration=9, windows={3: (50, 60)}), GOOD).feasible


def _route(ride: float, duration: float, latest: list[float]) -> RouteData:
    # depot, p1, p2, d1, d2, depot: unit travel and service
    return RouteData(
        earliest=[0, 0, 0, 0, 0, 0],
        latest=latest,
        service=[0, 1, 1, 1, 1, 0],
        travel=[1, 1, 1, 1, 1],
        pairs=[(1, 3), (2, 4)],
        max_ride=ride,
        max_duration=duration,
    )


def test_the_exact_schedule_agrees_with_the_eight_step_one_when_both_succeed() -> None:
    route = _route(ride=10, duration=100, latest=[100] * 6)
    exact = exact_schedule(route)
    assert exact is not None
    assert eight_step(route)[-1] == pytest.approx(9)
    assert exact_schedule(_route(ride=2.9, duration=100, latest=[100] * 6)) is None
    assert exact_schedule(_route(ride=10, duration=8.9, latest=[100] * 6)) is None
