"""The embedded profile's live state: a dict of immutable states plus a change journal."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from headway.domain.alerts import Alert
from headway.domain.geo import haversine_m
from headway.domain.vehicles import VehicleState, VehicleStatus
from headway.services.ports import BBox


class MemoryLiveState:
    def __init__(self) -> None:
        self._states: dict[str, VehicleState] = {}
        self._ids: list[str] = []  # sorted, for keyset paging
        self._version = 0
        self._changed_at: dict[str, int] = {}
        self._alerts: dict[str, Alert] = {}

    async def put_many(self, states: Sequence[VehicleState]) -> None:
        for state in states:
            if state.id not in self._states:
                bisect.insort(self._ids, state.id)
            self._states[state.id] = state
            self._version += 1
            self._changed_at[state.id] = self._version

    async def get(self, vehicle_id: str) -> VehicleState | None:
        return self._states.get(vehicle_id)

    async def get_many(self, vehicle_ids: Sequence[str]) -> list[VehicleState | None]:
        return [self._states.get(v) for v in vehicle_ids]

    async def query(
        self,
        status: VehicleStatus | None = None,
        bbox: BBox | None = None,
        after: str = "",
        limit: int = 100,
    ) -> list[VehicleState]:
        start = bisect.bisect_right(self._ids, after) if after else 0
        found: list[VehicleState] = []
        for vehicle_id in self._ids[start:]:
            state = self._states[vehicle_id]
            if status is not None and state.status != status:
                continue
            if bbox is not None and not bbox.contains(state.lat, state.lon):
                continue
            found.append(state)
            if len(found) >= limit:
                break
        return found

    async def changes_since(self, cursor: int) -> tuple[int, list[VehicleState]]:
        if cursor >= self._version:
            return self._version, []
        changed = [self._states[v] for v, at in self._changed_at.items() if at > cursor]
        return self._version, changed

    async def put_alerts(self, alerts: Sequence[Alert]) -> None:
        for alert in alerts:
            if alert.cleared_at is None:
                self._alerts[alert.id] = alert
            else:
                self._alerts.pop(alert.id, None)

    async def active_alerts(self) -> list[Alert]:
        return sorted(self._alerts.values(), key=lambda a: a.raised_at, reverse=True)

    async def nearest(
        self, lat: float, lon: float, radius_m: float, limit: int
    ) -> list[tuple[VehicleState, float]]:
        found = []
        for state in self._states.values():
            distance = haversine_m(lat, lon, state.lat, state.lon)
            if distance <= radius_m:
                found.append((state, distance))
        found.sort(key=lambda pair: pair[1])
        return found[:limit]

    async def clear(self) -> None:
        self.__init__()  # type: ignore[misc]
