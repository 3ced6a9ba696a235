"""Holding at control stops to keep the vehicles of a line evenly spaced.

A vehicle ready to leave a control stop is held so that it leaves halfway between the
vehicle ahead (which left at ``previous_departure``) and the vehicle behind (predicted
to arrive at ``follower_arrival``): the *prefol* rule (preceding and following
headway), which evens out both headways at once instead of chasing one. Without a
follower in sight the vehicle keeps a share (``gain``) of the gap to the target
headway behind the vehicle ahead. The leading vehicle of a line is never held.

Bounds: no hold is longer than ``max_hold_s``; on a timed point a hold never keeps a
vehicle past its scheduled departure (holding a late vehicle only makes it later), and
with ``no_early_departure`` a vehicle that is early there waits for its time. Holds
shorter than ``min_hold_s`` are dropped: not worth a command to the vehicle.

Pure and deterministic: the same situation gives the same hold.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum


class HoldReason(StrEnum):
    EVEN_HEADWAYS = "even_headways"
    """Halfway between the vehicle ahead and the vehicle behind."""
    TARGET_HEADWAY = "target_headway"
    """No follower in sight: towards the target headway behind the vehicle ahead."""
    SCHEDULE = "schedule"
    """Early at a timed point: waits for its scheduled departure."""
    LEADER = "leader"
    """Nothing ahead to keep a distance from."""
    NONE = "none"


@dataclass(frozen=True, slots=True)
class HoldingRules:
    max_hold_s: float = 120.0
    min_hold_s: float = 5.0
    gain: float = 0.6
    """Share of the gap to the target headway closed by one hold, without a follower
    (a full correction at every stop over-reacts to a noisy prediction)."""
    no_early_departure: bool = True
    """On timed points, an early vehicle waits for its scheduled departure."""


@dataclass(frozen=True, slots=True)
class ControlPoint:
    """One vehicle ready to leave one control stop, and what is known around it."""

    vehicle_id: str
    stop_id: str
    now: float
    previous_departure: float | None
    """When the vehicle ahead on the line left this stop; None for the leader."""
    follower_arrival: float | None = None
    """When the vehicle behind is predicted to reach this stop; None when unknown."""
    target_headway_s: float | None = None
    scheduled_departure: float | None = None
    timed_point: bool = False


@dataclass(frozen=True, slots=True)
class Hold:
    vehicle_id: str
    stop_id: str
    hold_s: float
    depart_at: float
    reason: HoldReason

    @property
    def holds(self) -> bool:
        return self.hold_s > 0.0


def hold_for(point: ControlPoint, rules: HoldingRules = HoldingRules()) -> Hold:
    """How long to hold the vehicle at this stop (0 when it should just go)."""
    wanted, reason = _headway_hold(point, rules)
    if point.timed_point and point.scheduled_departure is not None:
        until_schedule = max(0.0, point.scheduled_departure - point.now)
        if wanted > until_schedule:
            wanted = until_schedule
        if rules.no_early_departure and until_schedule > wanted:
            wanted, reason = until_schedule, HoldReason.SCHEDULE
    wanted = min(max(wanted, 0.0), rules.max_hold_s)
    if wanted < rules.min_hold_s:
        wanted, reason = 0.0, (reason if reason is HoldReason.LEADER else HoldReason.NONE)
    return Hold(point.vehicle_id, point.stop_id, wanted, point.now + wanted, reason)


def _headway_hold(point: ControlPoint, rules: HoldingRules) -> tuple[float, HoldReason]:
    if point.previous_departure is None:
        return 0.0, HoldReason.LEADER
    ahead = point.now - point.previous_departure
    if point.follower_arrival is not None:
        behind = point.follower_arrival - point.now
        return (behind - ahead) / 2.0, HoldReason.EVEN_HEADWAYS
    if point.target_headway_s is not None:
        return rules.gain * (point.target_headway_s - ahead), HoldReason.TARGET_HEADWAY
    return 0.0, HoldReason.NONE


def headway_cv(departures: list[float]) -> float:
    """Coefficient of variation (std / mean) of the gaps between successive departures:
    0 for perfectly even service; the usual measure of bunching."""
    times = sorted(departures)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    if len(gaps) < 2:
        return 0.0
    mean = sum(gaps) / len(gaps)
    if mean <= 0:
        return 0.0
    var = sum((g - mean) ** 2 for g in gaps) / len(gaps)
    return float(var**0.5 / mean)
