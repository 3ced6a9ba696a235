"""What every Records adapter (history of tracks and alerts) must do."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

from headway.domain.alerts import Alert
from headway.domain.vehicles import AlertKind
from headway.services.ports import Records
from tests.contract.live_state import vehicle


class RecordsContract:
    async def make_records(self) -> Records:
        raise NotImplementedError

    @staticmethod
    def unique() -> str:
        return f"r{uuid.uuid4().hex[:10]}"

    async def test_track_is_time_ordered_limited_to_the_newest_and_replay_safe(self) -> None:
        records, v = await self.make_records(), self.unique()
        now = float(int(time.time()))  # whole seconds: stores keep microseconds at most
        batch = [vehicle(v, ts=now + t) for t in (3.0, 1.0, 2.0, 4.0)]
        await records.add_track_points(batch)
        await records.add_track_points(batch[:2])  # replayed
        points = await records.track(v, since=now, limit=10)
        assert [p.ts - now for p in points] == [1.0, 2.0, 3.0, 4.0]
        newest = await records.track(v, since=now, limit=2)
        assert [p.ts - now for p in newest] == [3.0, 4.0]
        assert await records.track(v, since=now + 2.5, limit=10) == points[2:]
        assert points[0].lat == batch[1].lat
        assert points[0].status == batch[1].status

    async def test_a_batch_partly_stored_adds_only_its_new_rows(self) -> None:
        """A replay after a crash overlaps what the last write stored."""
        records, v = await self.make_records(), self.unique()
        now = float(int(time.time()))
        await records.add_track_points([vehicle(v, ts=now + 1.0)])
        await records.add_track_points([vehicle(v, ts=now + t) for t in (1.0, 2.0, 3.0)])
        points = await records.track(v, since=now, limit=10)
        assert [p.ts - now for p in points] == [1.0, 2.0, 3.0]

    async def test_alerts_upsert_clear_and_filter(self) -> None:
        records, v = await self.make_records(), self.unique()
        now = float(int(time.time()))  # whole seconds: stores keep microseconds at most
        a = Alert(f"{v}:a", v, AlertKind.ESTOP, "critical", "stop", raised_at=now)
        b = Alert(f"{v}:b", v, AlertKind.LOW_BATTERY, "warning", "low", raised_at=now + 1)
        await records.add_alerts([a, b])
        await records.add_alerts([a])  # replayed
        assert [x.id for x in await records.alerts(v, active_only=True, limit=10)] == [b.id, a.id]
        await records.add_alerts([replace(a, cleared_at=now + 2)])
        assert [x.id for x in await records.alerts(v, active_only=True, limit=10)] == [b.id]
        history = await records.alerts(v, active_only=False, limit=10)
        assert [(x.id, x.cleared_at is not None) for x in history] == [(b.id, False), (a.id, True)]
