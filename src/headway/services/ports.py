"""The ports: what the services need from the outside world, as Protocols.

Each has an in-memory adapter (``adapters/memory``) and a real one, and one contract
suite (``tests/contract``) runs against both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from headway.contracts.events import DeadLetter
from headway.domain.alerts import Alert
from headway.domain.vehicles import VehicleState, VehicleStatus


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str
    value: bytes


class EventConsumer(Protocol):
    async def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """Up to ``max_records`` records after the last polled ones; waits up to timeout_s."""
        ...

    async def commit(self) -> None:
        """Mark everything polled so far as done for the group."""
        ...

    async def rewind(self) -> None:
        """Go back to the last commit: what was polled since is delivered again."""
        ...

    async def close(self) -> None: ...


class EventLog(Protocol):
    def produce(self, topic: str, key: str, value: bytes) -> None:
        """Queue one record; ``flush`` makes everything queued durable."""
        ...

    async def flush(self) -> None: ...

    def consumer(self, group: str, topics: Sequence[str]) -> EventConsumer: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


class LiveState(Protocol):
    async def put_many(self, states: Sequence[VehicleState]) -> None: ...

    async def get(self, vehicle_id: str) -> VehicleState | None: ...

    async def get_many(self, vehicle_ids: Sequence[str]) -> list[VehicleState | None]: ...

    async def query(
        self,
        status: VehicleStatus | None = None,
        bbox: BBox | None = None,
        after: str = "",
        limit: int = 100,
    ) -> list[VehicleState]:
        """Vehicles in id order, starting after id ``after`` (keyset paging)."""
        ...

    async def changes_since(self, cursor: int) -> tuple[int, list[VehicleState]]:
        """States changed after ``cursor``, and the cursor to pass next time (0: all)."""
        ...

    async def put_alerts(self, alerts: Sequence[Alert]) -> None:
        """Store raised alerts and clear those that carry ``cleared_at``."""
        ...

    async def active_alerts(self) -> list[Alert]: ...

    async def nearest(
        self, lat: float, lon: float, radius_m: float, limit: int
    ) -> list[tuple[VehicleState, float]]:
        """Vehicles within radius_m of a point, nearest first, with their distance."""
        ...

    async def clear(self) -> None: ...


class Records(Protocol):
    """History: each vehicle's recent track, and alerts once raised."""

    async def add_track_points(self, states: Sequence[VehicleState]) -> None: ...

    async def track(self, vehicle_id: str, since: float, limit: int) -> list[VehicleState]: ...

    async def add_alerts(self, alerts: Sequence[Alert]) -> None: ...

    async def alerts(
        self, vehicle_id: str | None, active_only: bool, limit: int
    ) -> list[Alert]: ...

    async def close(self) -> None: ...


class DeadLetters(Protocol):
    def add(self, letter: DeadLetter) -> None:
        """Record one rejection; never blocks and never raises for I/O trouble."""
        ...

    async def counts(self) -> dict[str, int]:
        """Rejections so far by reason."""
        ...

    async def recent(self, limit: int) -> list[DeadLetter]: ...


class VehicleRegistry(Protocol):
    """Vehicles provisioned to talk to this platform, by (manufacturer, serial number)."""

    def is_known(self, manufacturer: str, serial: str) -> bool: ...

    def register(self, manufacturer: str, serial: str) -> None: ...

    def all(self) -> list[tuple[str, str]]: ...
