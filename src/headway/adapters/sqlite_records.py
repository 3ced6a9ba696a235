"""The embedded profile's history: tracks and alerts in one SQLite file.

sqlite3 blocks, so every call runs on one dedicated worker thread (which also keeps the
connection on the thread that made it); writes go in one transaction per batch.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from headway.domain.alerts import Alert
from headway.domain.vehicles import AlertKind, VehicleState, VehicleStatus

T = TypeVar("T")

_SCHEMA = """
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS track (
    vehicle_id TEXT NOT NULL, ts REAL NOT NULL, x REAL, y REAL, lat REAL, lon REAL,
    heading REAL, speed REAL, battery REAL, status TEXT, PRIMARY KEY (vehicle_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY, vehicle_id TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,
    message TEXT NOT NULL, raised_at REAL NOT NULL, cleared_at REAL
);
CREATE INDEX IF NOT EXISTS alerts_vehicle ON alerts (vehicle_id, raised_at);
CREATE INDEX IF NOT EXISTS alerts_raised ON alerts (raised_at);
"""


class SqliteRecords:
    def __init__(self, path: Path | str, track_retention_s: float = 3600.0) -> None:
        self._path = str(path)
        self._retention = track_retention_s
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-records")
        self._db: sqlite3.Connection | None = None

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._call, work)

    def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._db is None:
            if self._path != ":memory:":
                Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self._path)
            self._db.executescript(_SCHEMA)
        return work(self._db)

    async def add_track_points(self, states: Sequence[VehicleState]) -> None:
        rows = [
            (
                s.id,
                s.ts,
                s.x,
                s.y,
                s.lat,
                s.lon,
                s.heading_rad,
                s.speed_mps,
                s.battery_pct,
                s.status.value,
            )
            for s in states
        ]
        if not rows:
            return
        horizon = max(s.ts for s in states) - self._retention

        def write(db: sqlite3.Connection) -> None:
            with db:
                db.executemany("INSERT OR REPLACE INTO track VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
                db.execute("DELETE FROM track WHERE ts < ?", (horizon,))

        await self._run(write)

    async def track(self, vehicle_id: str, since: float, limit: int) -> list[VehicleState]:
        def read(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return db.execute(
                "SELECT ts, x, y, lat, lon, heading, speed, battery, status FROM track "
                "WHERE vehicle_id = ? AND ts >= ? ORDER BY ts DESC LIMIT ?",
                (vehicle_id, since, limit),
            ).fetchall()

        rows = await self._run(read)
        return [
            VehicleState(
                id=vehicle_id,
                manufacturer="",
                ts=ts,
                last_seen=ts,
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
        rows = [
            (a.id, a.vehicle_id, a.kind.value, a.severity, a.message, a.raised_at, a.cleared_at)
            for a in alerts
        ]
        if not rows:
            return

        def write(db: sqlite3.Connection) -> None:
            with db:
                db.executemany(
                    "INSERT INTO alerts VALUES (?,?,?,?,?,?,?) ON CONFLICT (id) "
                    "DO UPDATE SET cleared_at = excluded.cleared_at",
                    rows,
                )

        await self._run(write)

    async def alerts(self, vehicle_id: str | None, active_only: bool, limit: int) -> list[Alert]:
        where, args = ["1=1"], []
        if vehicle_id is not None:
            where.append("vehicle_id = ?")
            args.append(vehicle_id)
        if active_only:
            where.append("cleared_at IS NULL")
        sql = (
            "SELECT id, vehicle_id, kind, severity, message, raised_at, cleared_at FROM alerts "
            f"WHERE {' AND '.join(where)} ORDER BY raised_at DESC LIMIT ?"
        )

        def read(db: sqlite3.Connection) -> list[tuple[str, str, str, str, str, float, float]]:
            return db.execute(sql, (*args, limit)).fetchall()

        return [
            Alert(
                id=i,
                vehicle_id=v,
                kind=AlertKind(k),
                severity=s,
                message=m,
                raised_at=r,
                cleared_at=c,
            )
            for i, v, k, s, m, r, c in await self._run(read)
        ]

    async def close(self) -> None:
        def shut(db: sqlite3.Connection) -> None:
            db.close()

        if self._db is not None:
            await self._run(shut)
            self._db = None
        self._pool.shutdown(wait=True)
