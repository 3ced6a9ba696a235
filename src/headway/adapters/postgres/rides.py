"""The stack profile's ride records in PostgreSQL: one row per ride.

The record is a ``jsonb`` document (msgspec encodes the domain dataclass as is); the
columns beside it are what queries filter, sort and map on. ``save`` is compare-and-set
(``UPDATE … WHERE id = … AND version = …``): no row updated means someone saved first
(``StaleRide``). ``open_rides`` reads a partial index over the rides not ended, so its
cost follows the open rides, not the history. Pickup and drop-off points are PostGIS
points with GiST indexes, for operators' questions such as "where is demand unmet".

PostgreSQL away surfaces as ``RideStoreUnavailable`` (a ``StoreUnavailable``), which the
API answers with 503 and a Retry-After.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import msgspec
from psycopg import errors

from headway.adapters.postgres.pool import StorePool
from headway.domain.errors import StoreUnavailable
from headway.domain.rides import FINAL, Ride
from headway.services.ports import StaleRide

_OPEN = "state NOT IN ('refused', 'declined', 'expired', 'completed', 'cancelled')"
"""Spelled as in the partial index of migration 0004, so the planner uses it."""
assert {s.value for s in FINAL} == {"refused", "declined", "expired", "completed", "cancelled"}

_ROW = "body::text, version"
_decoder = msgspec.json.Decoder(Ride)
_encoder = msgspec.json.Encoder()


class RideStoreUnavailable(StoreUnavailable):
    """PostgreSQL could not be reached; nothing was changed. Retry later."""


def _moment(unix_s: float) -> datetime:
    return datetime.fromtimestamp(unix_s, UTC)


def _ride(row: tuple[str, int]) -> Ride:
    body, version = row
    return replace(_decoder.decode(body), version=int(version))


class PostgresRideStore:
    def __init__(
        self, url: str, min_size: int = 1, max_size: int = 4, timeout_s: float = 10.0
    ) -> None:
        self._db = StorePool(
            url, "ride records", RideStoreUnavailable, min_size, max_size, timeout_s
        )

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()

    async def create(self, ride: Ride) -> Ride:
        stored = replace(ride, version=1)
        async with self._db.connection("store a ride") as conn:
            try:
                await conn.execute(
                    "INSERT INTO rides (id, passenger, state, seats, vehicle_id, origin, "
                    "destination, created_at, updated_at, version, body) VALUES "
                    "(%s, %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), "
                    "ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, 1, %s::jsonb)",
                    (
                        ride.id,
                        ride.passenger,
                        ride.status.value,
                        ride.seats,
                        ride.vehicle_id or None,
                        ride.origin.lon,
                        ride.origin.lat,
                        ride.destination.lon,
                        ride.destination.lat,
                        _moment(ride.created_at),
                        _moment(ride.updated_at),
                        _encoder.encode(stored).decode(),
                    ),
                )
            except errors.UniqueViolation as exc:
                raise KeyError(f"ride {ride.id!r} exists already") from exc
        return stored

    async def get(self, ride_id: str) -> Ride | None:
        async with self._db.connection("read a ride") as conn:
            cur = await conn.execute(f"SELECT {_ROW} FROM rides WHERE id = %s", (ride_id,))
            row = await cur.fetchone()
        return None if row is None else _ride(row)

    async def save(self, ride: Ride) -> Ride:
        saved = replace(ride, version=ride.version + 1)
        async with self._db.connection("save a ride") as conn:
            cur = await conn.execute(
                "UPDATE rides SET state = %s, vehicle_id = %s, updated_at = %s, "
                "body = %s::jsonb, version = version + 1 "
                "WHERE id = %s AND version = %s RETURNING version",
                (
                    ride.status.value,
                    ride.vehicle_id or None,
                    _moment(ride.updated_at),
                    _encoder.encode(saved).decode(),
                    ride.id,
                    ride.version,
                ),
            )
            row = await cur.fetchone()
            stored = None
            if row is None:
                cur = await conn.execute("SELECT version FROM rides WHERE id = %s", (ride.id,))
                stored = await cur.fetchone()
        if row is not None:
            return saved
        if stored is None:
            raise KeyError(f"no ride {ride.id!r}: create it first")
        raise StaleRide(f"ride {ride.id}: saving version {ride.version}, stored is {stored[0]}")

    async def open_rides(self) -> list[Ride]:
        async with self._db.connection("read open rides") as conn:
            cur = await conn.execute(
                f"SELECT {_ROW} FROM rides WHERE {_OPEN} ORDER BY created_at, id"
            )
            rows = await cur.fetchall()
        return [_ride(row) for row in rows]

    async def for_passenger(self, passenger: str, before: str = "", limit: int = 50) -> list[Ride]:
        async with self._db.connection("read a passenger's rides") as conn:
            cur = await conn.execute(
                f"SELECT {_ROW} FROM rides WHERE passenger = %s AND (%s = '' OR id < %s) "
                "ORDER BY id DESC LIMIT %s",
                (passenger, before, before, limit),
            )
            rows = await cur.fetchall()
        return [_ride(row) for row in rows]
