"""The stream fold: telemetry events in, live vehicle states and alert changes out.

Pure functions, no I/O: the processor runner feeds them and stores what they return,
and the scenario tests in ``tests/unit/streaming`` drive them directly.

Ordering rules:
- telemetry is applied only if it is newer (vehicle clock) than what the state holds,
  so replays, duplicates and late arrivals never move a vehicle back in time;
- connection changes are applied in arrival order: a last will carries the timestamp
  of the connect that registered it, so its own timestamp says nothing about order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from headway.contracts.events import Capability, ConnectionChanged, Event, Telemetry
from headway.domain.vehicles import AlertKind, VehicleState, VehicleStatus, derive_status


@dataclass(frozen=True, slots=True)
class FoldRules:
    low_battery_pct: float = 20.0
    low_battery_clear_pct: float = 25.0
    offline_after_s: float = 10.0
    default_capacity: int = 8


@dataclass(frozen=True, slots=True)
class Place:
    """Where a position lies: WGS84 and the road segment, computed in batches by the runner."""

    lat: float
    lon: float
    segment: int | None


@dataclass(frozen=True, slots=True)
class Folded:
    state: VehicleState
    raised: tuple[AlertKind, ...] = ()
    cleared: tuple[AlertKind, ...] = ()


def fold(
    prev: VehicleState | None,
    event: Event,
    place: Place | None,
    rules: FoldRules,
    capacity: int | None = None,
) -> Folded | None:
    """Apply one event; None when it changes nothing (stale, duplicate, or not yet placeable)."""
    if isinstance(event, Telemetry):
        return _telemetry(prev, event, place, rules, capacity)
    if isinstance(event, ConnectionChanged):
        if prev is None or prev.connection == event.state:
            return None
        return _finish(prev, replace(prev, connection=event.state), rules)
    if isinstance(event, Capability):
        if prev is None or prev.capacity == event.capacity:
            return None
        return Folded(replace(prev, capacity=event.capacity))
    raise TypeError(f"not an event: {event!r}")


def sweep(state: VehicleState, now: float, rules: FoldRules) -> Folded | None:
    """Mark a vehicle offline once it has been silent longer than ``offline_after_s``."""
    if state.stale or now - state.last_seen <= rules.offline_after_s:
        return None
    return _finish(state, replace(state, stale=True), rules)


def _telemetry(
    prev: VehicleState | None,
    event: Telemetry,
    place: Place | None,
    rules: FoldRules,
    capacity: int | None,
) -> Folded | None:
    if prev is not None and event.ts <= prev.ts:
        return None
    if place is None:
        return None
    if prev is None:
        if not event.full:
            return None  # a bare position before the first state: nothing to show yet
        prev = _first_sight(event, capacity or rules.default_capacity)
    # One construction per event: dataclasses.replace() twice per event was the
    # processor's largest cost.
    full = event.full
    source: Telemetry | VehicleState = event if full else prev
    estop = source.estop
    fatal = source.fatal
    charging = source.charging
    driving = source.driving
    battery = event.battery_pct if full else prev.battery_pct
    status = derive_status(
        connection=prev.connection,
        stale=False,
        estop=estop,
        fatal=fatal,
        charging=charging,
        driving=driving,
    )
    alerts = _alerts_for(
        prev.alerts, battery, charging, estop, fatal, rules, offline=status.value == "offline"
    )
    state = VehicleState(
        id=prev.id,
        manufacturer=prev.manufacturer,
        ts=event.ts,
        last_seen=event.received_at,
        x=event.x,
        y=event.y,
        lat=place.lat,
        lon=place.lon,
        heading_rad=event.theta,
        speed_mps=prev.speed_mps if event.speed_mps is None else event.speed_mps,
        battery_pct=battery,
        charging=charging,
        driving=driving,
        status=status,
        occupancy=event.occupancy if full else prev.occupancy,
        capacity=prev.capacity,
        segment=place.segment,
        connection=prev.connection,
        stale=False,
        estop=estop,
        errors=event.errors if full else prev.errors,
        fatal=fatal,
        order_id=event.order_id if full else prev.order_id,
        last_node_id=event.last_node_id if full else prev.last_node_id,
        map_id=event.map_id,
        alerts=alerts,
    )
    before = prev.alerts
    return Folded(
        state,
        raised=tuple(sorted(alerts - before)) if alerts != before else (),
        cleared=tuple(sorted(before - alerts)) if alerts != before else (),
    )


def _first_sight(event: Telemetry, capacity: int) -> VehicleState:
    """What is known of a vehicle before its first state: who it is and its seats."""
    return VehicleState(
        id=event.vehicle_id,
        manufacturer=event.manufacturer,
        ts=-math.inf,
        last_seen=event.received_at,
        x=event.x,
        y=event.y,
        lat=0.0,
        lon=0.0,
        heading_rad=event.theta,
        speed_mps=0.0,
        battery_pct=event.battery_pct,
        charging=False,
        driving=False,
        status=VehicleStatus.IDLE,
        capacity=capacity,
    )


def _finish(prev: VehicleState | None, state: VehicleState, rules: FoldRules) -> Folded:
    """Re-derive status and alerts, and say which alerts were raised or cleared."""
    status = derive_status(
        connection=state.connection,
        stale=state.stale,
        estop=state.estop,
        fatal=state.fatal,
        charging=state.charging,
        driving=state.driving,
    )
    before = prev.alerts if prev is not None else frozenset()
    alerts = _alerts_for(
        before,
        state.battery_pct,
        state.charging,
        state.estop,
        state.fatal,
        rules,
        offline=status.value == "offline",
    )
    state = replace(state, status=status, alerts=alerts)
    return Folded(
        state,
        raised=tuple(sorted(alerts - before)),
        cleared=tuple(sorted(before - alerts)),
    )


def _alerts_for(
    before: frozenset[AlertKind],
    battery_pct: float,
    charging: bool,
    estop: str,
    fatal: bool,
    rules: FoldRules,
    *,
    offline: bool,
) -> frozenset[AlertKind]:
    if offline:
        # Nothing new is known about a silent vehicle: keep its other alerts as they were.
        return before | {AlertKind.OFFLINE}
    active: set[AlertKind] = set()
    threshold = (
        rules.low_battery_clear_pct if AlertKind.LOW_BATTERY in before else rules.low_battery_pct
    )
    if battery_pct < threshold and not charging:
        active.add(AlertKind.LOW_BATTERY)
    if estop != "NONE":
        active.add(AlertKind.ESTOP)
    if fatal:
        active.add(AlertKind.FAULT)
    return frozenset(active) if active != before else before
