"""Chargers as a timetable of plug slots, and the choice of where a vehicle charges.

A charge stop reserves one plug of one charger from the vehicle's start of charging to
its end; a charger never holds more overlapping reservations than it has plugs. A
vehicle that arrives early waits at the charger for its slot; one that arrives late
gives its slot back and takes the first free one from its arrival.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from headway.network.graph import Charger


def charge_duration_s(soc: float, target_soc: float, battery_kwh: float, power_kw: float) -> float:
    """Seconds to charge from soc to target_soc at a constant power."""
    return max(0.0, target_soc - soc) * battery_kwh * 3600.0 / power_kw


@dataclass(slots=True)
class Slot:
    vehicle_id: str
    start_s: float
    end_s: float


class ChargerBook:
    """Plug reservations per charger (index into the network's chargers)."""

    def __init__(self, chargers: Sequence[Charger]) -> None:
        self.chargers = tuple(chargers)
        self._slots: list[list[Slot]] = [[] for _ in self.chargers]

    def earliest_start(self, charger: int, from_s: float, duration_s: float) -> float:
        """The first time from ``from_s`` at which a plug is free for ``duration_s``."""
        slots = self._slots[charger]
        plugs = self.chargers[charger].plugs
        for start in sorted({from_s, *(s.end_s for s in slots if s.end_s > from_s)}):
            if self._peak(slots, start, start + duration_s) < plugs:
                return start
        raise AssertionError("a plug is always free after the last reservation ends")

    def book(self, charger: int, vehicle_id: str, start_s: float, end_s: float) -> Slot:
        slots = self._slots[charger]
        if self._peak(slots, start_s, end_s) >= self.chargers[charger].plugs:
            raise ValueError(f"charger {charger} has no free plug from {start_s} to {end_s}")
        slot = Slot(vehicle_id, start_s, end_s)
        slots.append(slot)
        return slot

    def release(self, charger: int, slot: Slot, now_s: float) -> None:
        """Give the rest of a slot back (the vehicle finished early or will be late)."""
        slots = self._slots[charger]
        if slot in slots:
            if slot.start_s >= now_s:
                slots.remove(slot)
            else:
                slot.end_s = min(slot.end_s, now_s)

    def cancel(self, charger: int, slot: Slot) -> None:
        """Give a slot back whole (the vehicle has not begun charging)."""
        slots = self._slots[charger]
        if slot in slots:
            slots.remove(slot)

    def forget_before(self, now_s: float) -> None:
        for slots in self._slots:
            slots[:] = [s for s in slots if s.end_s > now_s]

    def peak(self, charger: int, start_s: float, end_s: float) -> int:
        """Most reservations overlapping at once within [start_s, end_s)."""
        return self._peak(self._slots[charger], start_s, end_s)

    def slots(self, charger: int) -> tuple[Slot, ...]:
        return tuple(self._slots[charger])

    @staticmethod
    def _peak(slots: list[Slot], start_s: float, end_s: float) -> int:
        inside = [s for s in slots if s.start_s < end_s and s.end_s > start_s]
        points = [start_s, *(s.start_s for s in inside if s.start_s > start_s)]
        return max((sum(1 for s in inside if s.start_s <= t < s.end_s) for t in points), default=0)
