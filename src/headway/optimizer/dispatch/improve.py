"""Continuous improvement of the plans: move one ride at a time to where it costs less.

Each step takes a ride not yet picked up out of its vehicle's plan and inserts it again
at the cheapest feasible place in the whole fleet (its own vehicle included), under the
same constraints as a new offer but with the ride's promised pickup window. The move is
kept only if the fleet's cost falls; otherwise the plan is put back as it was. So no
step breaks a promise and none raises the cost.
"""

from __future__ import annotations

import random
import time

from headway.optimizer.dispatch.plans import Plans

GAIN_S = 1.0  # a move must save at least this much cost (seconds of driving)


def relocate_rides(plans: Plans, rng: random.Random, deadline: float) -> set[str]:
    """Relocation moves until ``deadline`` (perf_counter) or every ride was tried once."""
    f = plans.fleet
    candidates = [ride for ride in plans.waiting.values() if ride.vehicle is not None]
    rng.shuffle(candidates)
    changed: set[str] = set()
    rows = plans.rows()
    for ride in candidates:
        if time.perf_counter() >= deadline:
            break
        vehicle = plans.vehicles[ride.vehicle or ""]
        if not f.active[vehicle.row]:
            continue
        before = list(vehicle.stops)
        old_cost = plans.cost(vehicle)
        vehicle.stops = [s for s in before if s.ride != ride.id]
        plans.write(vehicle)
        saving = old_cost - plans.cost(vehicle)
        if saving > GAIN_S:
            ask = plans.ask(ride)
            v, i, j, added, _, _ = plans.best(ask, rows)
            if v >= 0 and added < saving - GAIN_S:
                target = plans.by_row[v]
                assert target is not None
                plans.splice(target, ride, i, j, ask)
                changed |= {vehicle.id, target.id}
                continue
        vehicle.stops = before
        plans.write(vehicle)
    return changed
