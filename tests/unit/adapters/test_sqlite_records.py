"""SQLite history: track points and alerts survive a reopen; old track points are pruned."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from headway.adapters.sqlite_records import SqliteRecords
from headway.domain.alerts import Alert
from headway.domain.vehicles import AlertKind
from tests.contract.live_state import vehicle


async def test_track_round_trip_ordered_and_pruned(tmp_path: Path) -> None:
    records = SqliteRecords(tmp_path / "h.sqlite", track_retention_s=100)
    await records.add_track_points([vehicle("v1", ts=t) for t in (10.0, 30.0, 20.0)])
    await records.add_track_points([vehicle("v2", ts=40.0)])
    got = await records.track("v1", since=0, limit=10)
    assert [p.ts for p in got] == [10.0, 20.0, 30.0]
    await records.add_track_points([vehicle("v1", ts=125.0)])
    assert [p.ts for p in await records.track("v1", since=0, limit=10)] == [30.0, 125.0]
    assert [p.ts for p in await records.track("v1", since=0, limit=1)] == [125.0]
    await records.close()


async def test_alerts_persist_and_clear(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    records = SqliteRecords(path)
    alert = Alert("a1", "v1", AlertKind.FAULT, "critical", "driveFault", raised_at=5.0)
    await records.add_alerts([alert, Alert("a2", "v2", AlertKind.OFFLINE, "warning", "x", 6.0)])
    await records.add_alerts([replace(alert, cleared_at=9.0)])
    await records.close()
    reopened = SqliteRecords(path)
    assert [a.id for a in await reopened.alerts(None, active_only=True, limit=10)] == ["a2"]
    every = await reopened.alerts("v1", active_only=False, limit=10)
    assert every == [replace(alert, cleared_at=9.0)]
    await reopened.close()
