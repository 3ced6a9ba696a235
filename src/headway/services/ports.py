"""The ports: what the services need from the outside world, as Protocols.

Each has an in-memory adapter (``adapters/memory``) and a real one, and one contract
suite (``tests/contract``) runs against both.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from headway.contracts.events import DeadLetter
from headway.domain.alerts import Alert
from headway.domain.commands import Command, CommandKind, CommandStatus
from headway.domain.rides import Ride
from headway.domain.vehicles import VehicleState, VehicleStatus


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str
    value: bytes


Positions = Mapping[tuple[str, int], int]
"""(topic, partition) -> the offset after the last record done."""


class EventConsumer(Protocol):
    async def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """Up to ``max_records`` records after the last polled ones; waits up to timeout_s."""
        ...

    def positions(self) -> Positions:
        """Where the group would resume if everything polled so far were done: the
        next offset of each partition polled from."""
        ...

    async def commit(self, positions: Positions | None = None) -> None:
        """Mark everything polled so far as done for the group, or only what lies
        before ``positions`` (taken from ``positions()`` earlier)."""
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


class StaleCommand(Exception):
    """A save lost a race: someone saved a newer version first. Reload and decide again."""


class DuplicateCommand(Exception):
    """A command with this id already exists."""


class CommandStore(Protocol):
    """Durable command records: the source of truth for every command's status.

    Saves are compare-and-set on ``Command.version``, so the commander's sender and its
    tracker (possibly in different processes) never overwrite each other's moves.
    """

    async def create(self, command: Command) -> tuple[Command, bool]:
        """Store a new command and give it the next ``seq`` of its vehicle.

        If a command with the same non-empty ``idempotency_key`` exists, store nothing
        and return that one with False.
        """
        ...

    async def get(self, command_id: str) -> Command | None: ...

    async def save(self, command: Command) -> Command:
        """Store ``command`` as the next version of the stored one and return it (with
        ``version`` bumped); raises StaleCommand if the stored version is not
        ``command.version``."""
        ...

    async def open_for_vehicles(self, vehicle_ids: Sequence[str]) -> dict[str, list[Command]]:
        """The vehicles' commands that have not ended, each list in ``seq`` order; vehicles
        without any are left out."""
        ...

    async def query(
        self,
        vehicle_id: str | None = None,
        status: CommandStatus | None = None,
        kind: CommandKind | None = None,
        before: str = "",
        limit: int = 100,
    ) -> list[Command]:
        """Newest first (ids sort by creation time), with ids below ``before`` if given."""
        ...

    async def stale(
        self,
        updated_before: float,
        limit: int,
        statuses: Collection[CommandStatus] | None = None,
    ) -> list[Command]:
        """Commands not ended and not saved since ``updated_before`` (oldest first),
        only those in ``statuses`` if given: the sweeper queues again the unacknowledged
        ones (their queue entry may be lost) and checks on the acknowledged ones (their
        vehicle may have gone silent)."""
        ...


@dataclass(frozen=True, slots=True)
class QueueEntry:
    entry_id: str
    vehicle_id: str
    command_id: str
    deliveries: int = 1


class CommandQueue(Protocol):
    """Work for the commanders: each entry is delivered to one consumer and stays pending
    until acknowledged; entries of a consumer that went silent can be claimed by another.
    """

    async def put(self, vehicle_id: str, command_id: str) -> str: ...

    async def take(self, consumer: str, max_entries: int, block_s: float) -> list[QueueEntry]:
        """New entries for ``consumer``; waits up to ``block_s`` when there are none."""
        ...

    async def pending(self, consumer: str) -> list[QueueEntry]:
        """Entries delivered to ``consumer`` and not yet acknowledged (after a restart)."""
        ...

    async def reclaim(self, consumer: str, min_idle_s: float, max_entries: int) -> list[QueueEntry]:
        """Take over entries pending with any consumer for at least ``min_idle_s``."""
        ...

    async def touch(self, consumer: str, entry_ids: Sequence[str]) -> None:
        """Reset the idle time of entries ``consumer`` is still working on."""
        ...

    async def ack(self, entry_ids: Sequence[str]) -> None: ...

    async def close(self) -> None: ...


class LinkDown(Exception):
    """The platform's own link to the vehicles (the MQTT broker) is down."""


class CommandLink(Protocol):
    """Sends VDA 5050 messages to vehicles (MQTT, QoS 1)."""

    @property
    def up(self) -> bool: ...

    async def send(self, manufacturer: str, serial: str, message: str, payload: bytes) -> None:
        """Hand one message (``order`` or ``instantActions``) to the broker; raises
        LinkDown when it cannot."""
        ...


class StaleRide(Exception):
    """A ride save lost a race: someone saved a newer version first. Reload and decide again."""


class RideStore(Protocol):
    """Durable ride records: what was offered, promised and done for each passenger.

    Saves are compare-and-set on ``Ride.version``, like the command records.
    """

    async def create(self, ride: Ride) -> Ride:
        """Store a new ride (version 1); an existing id is a programming error (KeyError)."""
        ...

    async def get(self, ride_id: str) -> Ride | None: ...

    async def save(self, ride: Ride) -> Ride:
        """Store ``ride`` as the next version; raises StaleRide if the stored version is
        not ``ride.version``."""
        ...

    async def open_rides(self) -> list[Ride]:
        """Every ride not ended (offered or booked), oldest first: what the dispatcher
        rebuilds its plans from after a restart."""
        ...

    async def for_passenger(self, passenger: str, before: str = "", limit: int = 50) -> list[Ride]:
        """The passenger's rides, newest first (ids sort by creation time)."""
        ...


class RideDesk(Protocol):
    """What the ride API asks of the ride service, wherever the service runs.

    ``RideService`` answers in process (the embedded profile); ``RedisRideDesk``
    forwards the passenger's calls to the stack's one dispatcher process and reads
    rides from the ride store. Both raise the ride service's errors (``RideNotFound``,
    ``RideConflict``, ``BadRideRequest``); a desk whose service cannot be reached raises
    a ``StoreUnavailable``. One contract suite holds both to the same answers.
    """

    async def request(
        self,
        passenger: str,
        origin: tuple[float, float],
        destination: tuple[float, float],
        seats: int,
        earliest_pickup: float | None = None,
        ride_id: str | None = None,
    ) -> Ride:
        """An offered or refused ride, stored. With ``ride_id`` the call is idempotent:
        asking again with the same id answers the ride already stored."""
        ...

    async def accept(self, passenger: str, ride_id: str) -> Ride: ...

    async def decline(self, passenger: str, ride_id: str) -> Ride: ...

    async def cancel(self, passenger: str, ride_id: str) -> Ride: ...

    async def get(self, passenger: str | None, ride_id: str) -> Ride:
        """The ride (``passenger`` None: anyone's, for operators); RideNotFound else."""
        ...

    async def mine(self, passenger: str, before: str = "", limit: int = 50) -> list[Ride]: ...

    async def current(self, ride: Ride) -> Ride:
        """``ride`` with the plan's current vehicle and ETAs (they move as plans do)."""
        ...

    def wall(self) -> float:
        """Now, on the clock the ride's times are given in."""
        ...
