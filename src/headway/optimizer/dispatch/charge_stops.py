"""When and where vehicles charge: a charge stop after the last rider of every vehicle
whose plan would leave it below ``charge_below_soc``, on the charger where it would
finish charging first, in a plug slot booked for it.

The state of charge at the charger is estimated from the planned driving time at the
network's top speed, which can only overstate the energy used: the real charge takes
no longer than the slot.
"""

from __future__ import annotations

from headway.optimizer.dispatch.charging import ChargerBook, charge_duration_s
from headway.optimizer.dispatch.model import StopKind
from headway.optimizer.dispatch.plans import Plans
from headway.optimizer.dispatch.state import Stop, Vehicle


def send_to_charge(plans: Plans, book: ChargerBook, now_s: float) -> set[str]:
    """Give a charge stop to every vehicle whose plan ends below charge_below_soc."""
    c = plans.config
    book.forget_before(now_s - 3600.0)
    changed: set[str] = set()
    for vehicle in plans.vehicles.values():
        if vehicle.bound_for(StopKind.CHARGE) or vehicle.bound_for(StopKind.DEPOT):
            continue
        node, leave, drive = plans.end_of_rides(vehicle)
        soc = vehicle.snap.soc - drive * plans.soc_per_drive_s
        if soc >= c.charge_below_soc:
            continue
        choice = charge_slot(plans, book, node, max(leave, now_s), soc)
        if choice is None:
            continue
        charger, start, end = choice
        slot = book.book(charger, vehicle.id, start, end)
        if vehicle.bound_for(StopKind.REBALANCE):
            vehicle.stops.pop()
        where = plans.network.chargers[charger].node
        vehicle.stops.append(Stop(StopKind.CHARGE, where, charger=charger, slot=slot))
        plans.write(vehicle)
        changed.add(vehicle.id)
    return changed


def charge_slot(
    plans: Plans, book: ChargerBook, node: int, from_s: float, soc: float
) -> tuple[int, float, float] | None:
    """(charger, start, end) that finishes charging first, among the chargers the
    vehicle reaches above its reserve."""
    c = plans.config
    row = plans.travel.from_node(node)
    best: tuple[int, float, float] | None = None
    for k, charger in enumerate(plans.network.chargers):
        drive = float(row[charger.node])
        arrive_soc = soc - drive * plans.soc_per_drive_s
        if arrive_soc < c.reserve_soc - 1e-9:
            continue
        duration = charge_duration_s(
            arrive_soc, c.charge_target_soc, c.battery_kwh, charger.power_kw
        )
        start = book.earliest_start(k, from_s + drive, duration)
        if best is None or start + duration < best[2]:
            best = (k, start, start + duration)
    return best


def keep_slot(plans: Plans, book: ChargerBook, vehicle: Vehicle) -> None:
    """A vehicle that will reach its charger after its slot begins gives the slot back
    and takes the first free one from its new arrival."""
    stop = vehicle.tail_stop()
    if stop is None or stop.slot is None:
        return
    c = plans.config
    node, leave, drive = plans.end_of_rides(vehicle)
    last_leg = plans.travel.time(node, stop.node)
    arrive = leave + last_leg
    if arrive <= stop.slot.start_s + 1e-6:
        return
    soc = vehicle.snap.soc - (drive + last_leg) * plans.soc_per_drive_s
    book.cancel(stop.charger, stop.slot)
    charger = plans.network.chargers[stop.charger]
    duration = charge_duration_s(soc, c.charge_target_soc, c.battery_kwh, charger.power_kw)
    start = book.earliest_start(stop.charger, arrive, duration)
    stop.slot = book.book(stop.charger, vehicle.id, start, start + duration)


def drop_tail(book: ChargerBook, vehicle: Vehicle, now_s: float) -> None:
    """Remove the plan's charge, rebalancing or depot stop, freeing a charger slot."""
    tail = vehicle.tail_stop()
    if tail is None:
        return
    if tail.slot is not None:
        book.release(tail.charger, tail.slot, now_s)
    vehicle.stops.pop()
