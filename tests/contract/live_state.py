"""What every LiveState adapter must do; run against each adapter by subclassing."""

from __future__ import annotations

from dataclasses import replace

from headway.domain.alerts import Alert
from headway.domain.vehicles import AlertKind, VehicleState, VehicleStatus
from headway.services.ports import BBox, LiveState


def vehicle(vid: str, lat: float = 48.2, lon: float = 11.6, **kw: object) -> VehicleState:
    base = VehicleState(
        id=vid,
        manufacturer="m",
        ts=100.0,
        last_seen=100.1,
        x=1.0,
        y=2.0,
        lat=lat,
        lon=lon,
        heading_rad=0.5,
        speed_mps=3.0,
        battery_pct=70.0,
        charging=False,
        driving=True,
        status=VehicleStatus.DRIVING,
        occupancy=2,
        capacity=8,
        segment=5,
        alerts=frozenset({AlertKind.LOW_BATTERY}),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


class LiveStateContract:
    async def make_live(self) -> LiveState:
        raise NotImplementedError

    async def test_put_and_get_round_trip(self) -> None:
        live = await self.make_live()
        v = vehicle("v1", errors=("WARNING:x",), segment=None)
        await live.put_many([v])
        assert await live.get("v1") == v
        assert await live.get("nope") is None
        assert await live.get_many(["v1", "nope"]) == [v, None]

    async def test_query_filters_and_pages_in_id_order(self) -> None:
        live = await self.make_live()
        states = [
            vehicle(
                f"v{i:02d}",
                status=VehicleStatus.IDLE if i % 2 else VehicleStatus.DRIVING,
                lat=48.0 + i * 0.01,
            )
            for i in range(10)
        ]
        await live.put_many(states[::-1])
        page1 = await live.query(limit=4)
        page2 = await live.query(after=page1[-1].id, limit=4)
        assert [s.id for s in page1 + page2] == [f"v{i:02d}" for i in range(8)]
        idle = await live.query(status=VehicleStatus.IDLE, limit=100)
        assert [s.id for s in idle] == ["v01", "v03", "v05", "v07", "v09"]
        box = await live.query(bbox=BBox(11.0, 48.015, 12.0, 48.055), limit=100)
        assert [s.id for s in box] == ["v02", "v03", "v04", "v05"]

    async def test_changes_since_returns_only_newer_changes(self) -> None:
        live = await self.make_live()
        await live.put_many([vehicle("a"), vehicle("b")])
        cursor, everything = await live.changes_since(0)
        assert sorted(s.id for s in everything) == ["a", "b"]
        cursor2, none = await live.changes_since(cursor)
        assert none == []
        await live.put_many([vehicle("b", battery_pct=50.0)])
        _, changed = await live.changes_since(cursor2)
        assert [(s.id, s.battery_pct) for s in changed] == [("b", 50.0)]

    async def test_alerts_are_active_until_cleared(self) -> None:
        live = await self.make_live()
        a = Alert("a1", "v1", AlertKind.ESTOP, "critical", "stop", raised_at=10.0)
        b = Alert("a2", "v2", AlertKind.OFFLINE, "warning", "gone", raised_at=20.0)
        await live.put_alerts([a, b])
        assert [x.id for x in await live.active_alerts()] == ["a2", "a1"]
        await live.put_alerts([replace(a, cleared_at=30.0)])
        assert [x.id for x in await live.active_alerts()] == ["a2"]
