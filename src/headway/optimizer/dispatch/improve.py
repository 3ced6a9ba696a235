"""Continuous improvement of the plans: move one ride at a time to where it costs less.

Each step takes a ride not yet picked up out of its vehicle's plan and inserts it again
at the cheapest feasible place in the whole fleet (its own vehicle included), under the
same constraints as a new offer but with the ride's promised pickup window. The move is
kept only if the fleet's cost falls; otherwise the plan is put back as it was. So no
step breaks a promise and none raises the cost.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from headway.optimizer.dispatch.fleet import best_insertion
from headway.optimizer.dispatch.model import RidePhase, StopKind

if TYPE_CHECKING:
    from headway.optimizer.dispatch.engine import DispatchEngine

GAIN_S = 1.0  # a move must save at least this much cost (seconds of driving)


def relocate_rides(engine: DispatchEngine, now_s: float, deadline: float) -> set[str]:
    """Relocation moves until ``deadline`` (perf_counter) or every ride was tried once."""
    f = engine._fleet
    candidates = [
        ride
        for ride in engine._rides.values()
        if ride.phase in (RidePhase.OFFERED, RidePhase.ACCEPTED) and ride.vehicle is not None
    ]
    engine._random.shuffle(candidates)
    changed: set[str] = set()
    rows = engine._rows()
    for ride in candidates:
        if time.perf_counter() >= deadline:
            break
        assert ride.vehicle is not None
        vehicle = engine._vehicles[ride.vehicle]
        if not f.active[vehicle.row]:
            continue
        before = list(vehicle.stops)
        old_cost = float(f.base_cost[vehicle.row])
        vehicle.stops = [s for s in before if s.ride != ride.id]
        engine._write(vehicle)
        saving = old_cost - float(f.base_cost[vehicle.row])
        if saving > GAIN_S:
            ask = engine._ask(ride)
            v, i, j, added, _, _ = best_insertion(
                f, rows, ask, engine._tail, engine._params, engine._times
            )
            if v >= 0 and added < saving - GAIN_S:
                target = engine._by_row[v]
                assert target is not None
                engine._splice(target, ride, i, j, ask)
                changed |= {vehicle.id, target.id}
                continue
        vehicle.stops = before
        for stop in before:
            if stop.kind == StopKind.PICK and stop.ride == ride.id:
                stop.leg_from = -1
        engine._write(vehicle)
        ride.vehicle = vehicle.id
    return changed
