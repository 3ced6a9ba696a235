"""An independent check of a dial-a-ride solution against a Cordeau instance.

It shares no code with the solver: it reads the instance's own numbers, recomputes
distances from the coordinates, and judges each route's times with the schedules of
``verify_schedule``. A route is feasible iff some schedule meets every constraint;
violations are reported as the eight-step schedule shows them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from headway.optimizer.darp.cordeau import CordeauInstance
from headway.optimizer.darp.verify_schedule import (
    TOLERANCE,
    RouteData,
    eight_step,
    exact_schedule,
    ride_times,
    time_violations,
)


@dataclass(frozen=True)
class Violation:
    kind: str  # capacity, time_window, ride_time, duration, pairing, precedence, ...
    route: int | None
    detail: str

    def __str__(self) -> str:
        where = "" if self.route is None else f"route {self.route}: "
        return f"{self.kind}: {where}{self.detail}"


@dataclass(frozen=True)
class Verdict:
    cost: float
    violations: tuple[Violation, ...]
    schedules: tuple[tuple[float, ...], ...] = field(default=())

    @property
    def feasible(self) -> bool:
        return not self.violations

    def kinds(self) -> set[str]:
        return {violation.kind for violation in self.violations}


def verify(instance: CordeauInstance, routes: Sequence[Sequence[int]]) -> Verdict:
    """Check capacity, windows, ride times, durations, pairing, precedence, coverage and
    fleet size; recompute the cost (total Euclidean distance, depot legs included)."""
    n, end = instance.requests, instance.end_depot
    found: list[Violation] = []
    visits: list[list[int]] = []
    for index, route in enumerate(routes):
        visits.append(_strip_depots(instance, index, list(route), found))
    seen: dict[int, list[tuple[int, int]]] = {}
    for index, route in enumerate(visits):
        for position, node in enumerate(route):
            seen.setdefault(node, []).append((index, position))
    for node, places in sorted(seen.items()):
        if len(places) > 1:
            where = ", ".join(f"route {r}" for r, _ in places)
            found.append(
                Violation("duplicate", None, f"node {node} visited {len(places)} times ({where})")
            )
    for r in range(1, n + 1):
        pickup, drop = seen.get(r), seen.get(r + n)
        if pickup is None and drop is None:
            found.append(
                Violation("missing", None, f"request {r} (nodes {r}, {r + n}) is not served")
            )
        elif pickup is None or drop is None:
            have, lack = (r + n, r) if pickup is None else (r, r + n)
            found.append(
                Violation("pairing", None, f"request {r}: node {have} visited, {lack} not")
            )
        elif pickup[0][0] != drop[0][0]:
            found.append(
                Violation(
                    "pairing",
                    None,
                    f"request {r}: pickup on route {pickup[0][0]}, drop-off on route {drop[0][0]}",
                )
            )
        elif pickup[0][1] > drop[0][1]:
            found.append(
                Violation("precedence", pickup[0][0], f"request {r}: drop-off before pickup")
            )
    used = sum(1 for route in visits if route)
    if used > instance.vehicles:
        found.append(
            Violation("fleet_size", None, f"{used} routes for {instance.vehicles} vehicles")
        )
    cost = 0.0
    schedules: list[tuple[float, ...]] = []
    for index, route in enumerate(visits):
        if not route:
            schedules.append(())
            continue
        full = [0, *route, end]
        cost += sum(_distance(instance, a, b) for a, b in itertools.pairwise(full))
        _check_load(instance, index, full, found)
        schedules.append(_check_times(instance, index, full, found))
    return Verdict(cost, tuple(found), tuple(schedules))


def _strip_depots(
    instance: CordeauInstance, index: int, route: list[int], found: list[Violation]
) -> list[int]:
    end = instance.end_depot
    if route and route[0] == 0:
        if route[-1] != end:
            found.append(Violation("depot", index, f"starts at depot 0 but does not end at {end}"))
        route = route[1:-1] if route[-1] == end else route[1:]
    inner = []
    for node in route:
        if not isinstance(node, int) or isinstance(node, bool) or not 0 <= node <= end:
            found.append(Violation("unknown_node", index, f"{node!r} is not a node id 0..{end}"))
        elif node in (0, end):
            found.append(Violation("depot", index, f"depot {node} inside the route"))
        else:
            inner.append(node)
    return inner


def _distance(instance: CordeauInstance, a: int, b: int) -> float:
    na, nb = instance.nodes[a], instance.nodes[b]
    return math.hypot(na.x - nb.x, na.y - nb.y)


def _check_load(
    instance: CordeauInstance, index: int, full: list[int], found: list[Violation]
) -> None:
    load = 0
    for node in full:
        load += instance.nodes[node].load
        if load > instance.capacity:
            found.append(
                Violation("capacity", index, f"load {load} > {instance.capacity} after node {node}")
            )
            return


def _check_times(
    instance: CordeauInstance, index: int, full: list[int], found: list[Violation]
) -> tuple[float, ...]:
    n = instance.requests
    position = {node: x for x, node in enumerate(full)}
    pairs = [
        (position[node], position[node + n])
        for node in full
        if 1 <= node <= n and node + n in position and position[node] < position[node + n]
    ]
    route = RouteData(
        earliest=[instance.nodes[node].earliest for node in full],
        latest=[instance.nodes[node].latest for node in full],
        service=[instance.nodes[node].service for node in full],
        travel=[_distance(instance, a, b) for a, b in itertools.pairwise(full)],
        pairs=pairs,
        max_ride=instance.max_ride_time,
        max_duration=instance.max_route_duration,
    )
    exact = exact_schedule(route)
    if exact is not None:
        return tuple(exact)
    schedule = eight_step(route)
    rides = ride_times(route, schedule)
    broken = time_violations(route, schedule)
    for kind, at, excess in broken:
        if kind == "ride_time":
            detail = (
                f"request {full[pairs[at][0]]}: ride {rides[at]:.3f} > {instance.max_ride_time:g}"
            )
        elif kind == "duration":
            detail = f"duration {schedule[-1] - schedule[0]:.3f} > {instance.max_route_duration:g}"
        else:
            node = full[at]
            detail = (
                f"node {node} served at {schedule[at]:.3f}, window "
                f"[{instance.nodes[node].earliest:g}, {instance.nodes[node].latest:g}]"
            )
        found.append(Violation(kind, index, f"{detail} (over by {excess:.3f})"))
    if not broken:
        found.append(Violation("schedule", index, "no schedule meets every time constraint"))
    return tuple(schedule)


__all__ = ["TOLERANCE", "Verdict", "Violation", "verify"]
