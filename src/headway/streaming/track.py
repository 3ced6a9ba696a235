"""Which states become track points: one per vehicle every ``interval_s``, plus status changes."""

from __future__ import annotations

from collections.abc import Iterable

from headway.domain.vehicles import VehicleState, VehicleStatus


class TrackSampler:
    def __init__(self, interval_s: float = 5.0) -> None:
        self._interval = interval_s
        self._last: dict[str, tuple[float, VehicleStatus]] = {}

    def sample(self, states: Iterable[VehicleState]) -> list[VehicleState]:
        """interval_s 0 keeps every state, late ones included (the stack's history)."""
        if self._interval <= 0:
            return list(states)
        kept: list[VehicleState] = []
        for state in states:
            last = self._last.get(state.id)
            if last is None or state.ts - last[0] >= self._interval or state.status != last[1]:
                self._last[state.id] = (state.ts, state.status)
                kept.append(state)
        return kept
