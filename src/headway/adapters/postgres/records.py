"""The stack profile's history in PostgreSQL + PostGIS.

Telemetry is written in batches with COPY into the day-partitioned ``telemetry``
table. A batch holding a row that is already stored (replayed after a crash or a
rebalance) fails as a whole and goes again through a temporary table, moved over with
``ON CONFLICT DO NOTHING``: a replay adds nothing, so each applied event is stored
exactly once. Partitions are created on first use. A connection pool (psycopg_pool) replaces
broken connections, so a restarted PostgreSQL is picked up again by the next call.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import errors
from psycopg_pool import AsyncConnectionPool

from headway.domain.alerts import Alert
from headway.domain.errors import StoreUnavailable
from headway.domain.vehicles import AlertKind, VehicleState, VehicleStatus

_COLUMNS = (
    "vehicle_id, ts, received_at, geom, x, y, heading, speed, battery, status, occupancy, segment"
)


class RecordsUnavailable(StoreUnavailable):
    """PostgreSQL could not be reached or refused the write; retry later."""


@dataclass(frozen=True, slots=True)
class HistoricFix:
    vehicle_id: str
    ts: float
    lat: float
    lon: float
    distance_m: float


def _moment(unix_s: float) -> datetime:
    return datetime.fromtimestamp(unix_s, UTC)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_line(s: VehicleState) -> str:
    """One row of COPY's text format; timestamps as datetime would bind them, so a
    replayed row has exactly the key of the stored one."""
    segment = "\\N" if s.segment is None else str(s.segment)
    return (
        f"{s.id.translate(_COPY_ESCAPES)}\t{_moment(s.ts).isoformat()}\t"
        f"{_moment(s.last_seen).isoformat()}\tSRID=4326;POINT({s.lon!r} {s.lat!r})\t"
        f"{s.x!r}\t{s.y!r}\t{s.heading_rad!r}\t{s.speed_mps!r}\t{s.battery_pct!r}\t"
        f"{s.status.value}\t{s.occupancy}\t{segment}\n"
    )


class PostgisRecords:
    def __init__(
        self, url: str, min_size: int = 1, max_size: int = 4, timeout_s: float = 10.0
    ) -> None:
        self._pool = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout_s,
            open=False,
            check=AsyncConnectionPool.check_connection,
            kwargs={"connect_timeout": int(timeout_s)},
        )
        self._days: set[str] = set()
        # Connections whose session has the staging table (temporary, one per session).
        self._staged: weakref.WeakSet[psycopg.AsyncConnection[Any]] = weakref.WeakSet()

    async def open(self) -> None:
        await self._pool.open(wait=True)

    async def close(self) -> None:
        await self._pool.close()

    async def add_track_points(self, states: Sequence[VehicleState]) -> None:
        if not states:
            return
        days = {_moment(t).date() for t in {s.ts // 86_400 * 86_400 for s in states}}
        # The COPY text is built here in one pass: psycopg's write_row formats each value
        # through its adapters, which cost more than the rest of the write together.
        text = "".join(_copy_line(s) for s in states)
        try:
            async with self._pool.connection() as conn:
                await self._ensure_partitions(conn, days)
                # Straight into the table: the common case, and about a third cheaper
                # for PostgreSQL than through the staging table. A row it already holds
                # (a replay) fails the whole COPY, which then goes the way that skips it.
                try:
                    async with (
                        conn.transaction(),
                        conn.cursor() as cur,
                        cur.copy(f"COPY telemetry ({_COLUMNS}) FROM STDIN") as copy,
                    ):
                        await copy.write(text)
                    return
                except errors.UniqueViolation:
                    pass
                staged = conn in self._staged
                async with conn.transaction(), conn.cursor() as cur:
                    if not staged:
                        await cur.execute(
                            "CREATE TEMP TABLE IF NOT EXISTS telemetry_in "
                            "(LIKE telemetry INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
                        )
                    async with cur.copy(f"COPY telemetry_in ({_COLUMNS}) FROM STDIN") as copy:
                        await copy.write(text)
                    await cur.execute(
                        f"INSERT INTO telemetry ({_COLUMNS}) SELECT {_COLUMNS} FROM telemetry_in "
                        "ON CONFLICT (vehicle_id, ts) DO NOTHING"
                    )
                self._staged.add(conn)  # committed: the table stays for the session
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise RecordsUnavailable(f"telemetry history not written: {exc}") from exc

    async def _ensure_partitions(self, conn: psycopg.AsyncConnection, days: set[date]) -> None:
        for day in days:
            name = f"telemetry_{day:%Y%m%d}"
            if name in self._days:
                continue
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            try:
                await conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF telemetry "
                    f"FOR VALUES FROM ('{start.isoformat()}') "
                    f"TO ('{(start + timedelta(days=1)).isoformat()}')"
                )
                await conn.commit()
            except (errors.DuplicateTable, errors.UniqueViolation):
                await conn.rollback()  # another processor made it a moment ago
            self._days.add(name)

    async def track(self, vehicle_id: str, since: float, limit: int) -> list[VehicleState]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT extract(epoch FROM ts), x, y, ST_Y(geom), ST_X(geom), heading, speed, "
                "battery, status FROM telemetry WHERE vehicle_id = %s AND ts >= %s "
                "ORDER BY ts DESC LIMIT %s",
                (vehicle_id, _moment(since), limit),
            )
            rows = await cur.fetchall()
        return [
            VehicleState(
                id=vehicle_id,
                manufacturer="",
                ts=float(ts),
                last_seen=float(ts),
                x=x,
                y=y,
                lat=lat,
                lon=lon,
                heading_rad=heading,
                speed_mps=speed,
                battery_pct=battery,
                charging=status == "charging",
                driving=status == "driving",
                status=VehicleStatus(status),
            )
            for ts, x, y, lat, lon, heading, speed, battery, status in reversed(rows)
        ]

    async def add_alerts(self, alerts: Sequence[Alert]) -> None:
        if not alerts:
            return
        rows = [
            (
                a.id,
                a.vehicle_id,
                a.kind.value,
                a.severity,
                a.message,
                _moment(a.raised_at),
                None if a.cleared_at is None else _moment(a.cleared_at),
            )
            for a in alerts
        ]
        try:
            async with self._pool.connection() as conn, conn.cursor() as cur:
                await cur.executemany(
                    "INSERT INTO alerts VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (id) "
                    "DO UPDATE SET cleared_at = excluded.cleared_at",
                    rows,
                )
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise RecordsUnavailable(f"alerts not written: {exc}") from exc

    async def alerts(self, vehicle_id: str | None, active_only: bool, limit: int) -> list[Alert]:
        where, args = ["true"], []
        if vehicle_id is not None:
            where.append("vehicle_id = %s")
            args.append(vehicle_id)
        if active_only:
            where.append("cleared_at IS NULL")
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id, vehicle_id, kind, severity, message, extract(epoch FROM raised_at), "
                f"extract(epoch FROM cleared_at) FROM alerts WHERE {' AND '.join(where)} "
                "ORDER BY raised_at DESC LIMIT %s",
                (*args, limit),
            )
            rows = await cur.fetchall()
        return [
            Alert(i, v, AlertKind(k), s, m, float(r), None if c is None else float(c))
            for i, v, k, s, m, r, c in rows
        ]

    async def nearest_fixes(
        self, lat: float, lon: float, since: float, until: float, radius_m: float, limit: int
    ) -> list[HistoricFix]:
        """Where vehicles were near a point in a time window, nearest first (GiST index)."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                NEAREST_SQL, nearest_args(lat, lon, since, until, radius_m, limit)
            )
            rows = await cur.fetchall()
        return [HistoricFix(v, float(t), la, lo, d) for v, t, la, lo, d in rows]

    async def explain_nearest(self, lat: float, lon: float, radius_m: float) -> str:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "EXPLAIN " + NEAREST_SQL, nearest_args(lat, lon, 0, 4e9, radius_m, 10)
            )
            return "\n".join(r[0] for r in await cur.fetchall())


# ST_DWithin on geography-cast points cannot use the geometry GiST index, so the index
# filter is a bounding box in degrees (generous at any latitude below 80°), and the
# exact distance is computed only for the rows inside it.
NEAREST_SQL = """
SELECT vehicle_id, extract(epoch FROM ts), ST_Y(geom), ST_X(geom),
       ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography)
FROM telemetry
WHERE geom && ST_Expand(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(deg)s)
  AND ts BETWEEN %(since)s AND %(until)s
  AND ST_DWithin(geom::geography,
                 ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(radius)s)
ORDER BY geom <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)
LIMIT %(limit)s
"""


def nearest_args(
    lat: float, lon: float, since: float, until: float, radius_m: float, limit: int
) -> dict[str, object]:
    import math

    deg = radius_m / (111_320.0 * max(math.cos(math.radians(min(abs(lat), 80.0))), 0.17))
    return {
        "lat": lat,
        "lon": lon,
        "deg": deg,
        "since": _moment(since),
        "until": _moment(until),
        "radius": radius_m,
        "limit": limit,
    }
