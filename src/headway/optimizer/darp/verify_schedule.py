"""Time feasibility of one route in a fixed order, for the verifier.

Two independent computations, deliberately simple and in plain Python:

- ``eight_step``: the schedule of Cordeau & Laporte (2003): earliest departure, then the
  start and each pickup delayed by its forward time slack, which keeps the route
  duration and the ride times short. Its violations are what the verifier reports.
- ``exact_schedule``: the route's time constraints are difference constraints
  (``B_j - B_i <= w``), so a schedule exists iff their graph has no negative cycle.
  Bellman-Ford decides that exactly and, when one exists, gives a schedule, which is
  then checked constraint by constraint. This is what the feasibility verdict rests on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TOLERANCE = 1e-6


@dataclass(frozen=True)
class RouteData:
    """One route as the time checks need it (positions 0..m-1, depots at both ends)."""

    earliest: Sequence[float]
    latest: Sequence[float]
    service: Sequence[float]
    travel: Sequence[float]  # travel[x]: from position x to x + 1
    pairs: Sequence[tuple[int, int]]  # (pickup position, drop-off position)
    max_ride: float
    max_duration: float


def ride_times(route: RouteData, start: Sequence[float]) -> list[float]:
    return [start[d] - (start[p] + route.service[p]) for p, d in route.pairs]


def time_violations(route: RouteData, start: Sequence[float]) -> list[tuple[str, int, float]]:
    """(kind, position or pair index, excess) for each constraint ``start`` breaks."""
    found: list[tuple[str, int, float]] = []
    for x in range(len(start)):
        if start[x] < route.earliest[x] - TOLERANCE:
            found.append(("early", x, route.earliest[x] - start[x]))
        if start[x] > route.latest[x] + TOLERANCE:
            found.append(("time_window", x, start[x] - route.latest[x]))
        if x > 0:
            gap = start[x] - (start[x - 1] + route.service[x - 1] + route.travel[x - 1])
            if gap < -TOLERANCE:
                found.append(("travel", x, -gap))
    for index, ride in enumerate(ride_times(route, start)):
        if ride > route.max_ride + TOLERANCE:
            found.append(("ride_time", index, ride - route.max_ride))
    duration = start[-1] - start[0]
    if duration > route.max_duration + TOLERANCE:
        found.append(("duration", len(start) - 1, duration - route.max_duration))
    return found


def eight_step(route: RouteData) -> list[float]:
    """Start of service at each position, by the eight-step procedure."""
    m = len(route.earliest)
    drop_of = {p: d for p, d in route.pairs}
    pickup_of = {d: p for p, d in route.pairs}
    start = _forward(route, route.earliest[0], 0, [0.0] * m)
    wait = _waits(route, start)
    slack = _forward_slack(route, start, wait, 0, pickup_of)
    start[0] = route.earliest[0] + min(slack, sum(wait[1 : m - 1]))
    start = _forward(route, start[0], 0, start)
    for j in range(1, m - 1):
        if j not in drop_of:
            continue
        wait = _waits(route, start)
        slack = _forward_slack(route, start, wait, j, pickup_of)
        start[j] = start[j] + min(slack, sum(wait[j + 1 : m - 1]))
        start = _forward(route, start[j], j, start)
    return start


def _forward(route: RouteData, begin: float, at: int, start: list[float]) -> list[float]:
    out = list(start)
    out[at] = begin
    for x in range(at + 1, len(out)):
        arrival = out[x - 1] + route.service[x - 1] + route.travel[x - 1]
        out[x] = max(route.earliest[x], arrival)
    return out


def _waits(route: RouteData, start: Sequence[float]) -> list[float]:
    waits = [0.0] * len(start)
    for x in range(1, len(start)):
        waits[x] = start[x] - (start[x - 1] + route.service[x - 1] + route.travel[x - 1])
    return waits


def _forward_slack(
    route: RouteData,
    start: Sequence[float],
    wait: Sequence[float],
    i: int,
    pickup_of: dict[int, int],
) -> float:
    """F_i: how far service at position i can be delayed without breaking a window or
    the ride time of a rider already on board at i."""
    best = float("inf")
    waited = 0.0
    for j in range(i, len(start)):
        if j > i:
            waited += wait[j]
        room = route.latest[j] - start[j]
        p = pickup_of.get(j)
        if p is not None and p < i:
            ride = start[j] - (start[p] + route.service[p])
            room = min(room, route.max_ride - ride)
        best = min(best, waited + max(0.0, room))
    return best


def exact_schedule(route: RouteData) -> list[float] | None:
    """A schedule meeting every time constraint of the route, or None if there is none."""
    m = len(route.earliest)
    zero = m  # the reference time 0
    edges: list[tuple[int, int, float]] = []  # (i, j, w) means B_j - B_i <= w
    for x in range(m):
        edges.append((zero, x, route.latest[x]))
        edges.append((x, zero, -route.earliest[x]))
        if x > 0:
            edges.append((x, x - 1, -(route.service[x - 1] + route.travel[x - 1])))
    for p, d in route.pairs:
        edges.append((p, d, route.service[p] + route.max_ride))
    edges.append((0, m - 1, route.max_duration))
    dist = [0.0] * (m + 1)  # a virtual source at distance 0 from every variable
    for _ in range(m + 2):
        changed = False
        for i, j, w in edges:
            if dist[i] + w < dist[j] - 1e-9:
                dist[j] = dist[i] + w
                changed = True
        if not changed:
            break
    else:
        return None
    schedule = [dist[x] - dist[zero] for x in range(m)]
    return None if time_violations(route, schedule) else schedule
