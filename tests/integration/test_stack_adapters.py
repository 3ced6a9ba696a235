"""The stack's adapters against the real services, held to the same contracts as the
in-memory ones, plus what only the real ones do (geo indexes, partitions, replays)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import psycopg
import pytest

from headway.adapters.kafka_event_log import KafkaEventLog
from headway.adapters.postgres.migrate import upgrade
from headway.adapters.postgres.records import PostgisRecords
from headway.adapters.postgres.registry import FULL_REFRESH_S, PostgresVehicleRegistry
from headway.adapters.redis_live_state import RedisLiveState
from headway.domain.alerts import Alert
from headway.domain.vehicles import AlertKind
from headway.services.ports import EventLog
from tests.contract.event_log import EventLogContract
from tests.contract.live_state import LiveStateContract, vehicle
from tests.contract.records import RecordsContract
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


class TestKafkaEventLog(EventLogContract):
    @pytest.fixture(autouse=True)
    def _stack(self, stack: Stack) -> None:
        self.bootstrap = stack.kafka_bootstrap

    def make_log(self) -> KafkaEventLog:
        return KafkaEventLog(self.bootstrap, client_id="contract")

    async def new_topic(self, log: EventLog) -> str:
        assert isinstance(log, KafkaEventLog)
        topic = self.unique("contract")
        await log.ensure_topics([topic], partitions=3)
        return topic


async def test_kafka_durable_mark_follows_acknowledgements(stack: Stack, unique: str) -> None:
    """What the bridge acknowledges MQTT by: every record up to ``durable`` is in Kafka."""
    log = KafkaEventLog(stack.kafka_bootstrap, client_id=f"{unique}-durable")
    topic = f"{unique}.durable"
    await log.ensure_topics([topic], partitions=3)
    marks: list[int] = []
    log.on_durable = marks.append
    for i in range(500):
        log.produce(topic, f"k{i % 7}", b"x")
    assert log.produced == 500
    deadline = time.monotonic() + 30
    while log.durable < 500 and time.monotonic() < deadline:
        log.serve()
        await asyncio.sleep(0.01)
    assert log.durable == 500
    assert log.delivered == 500
    assert marks == sorted(marks)
    assert marks[-1] == 500
    log.on_durable = None
    await log.close()


class TestRedisLiveState(LiveStateContract):
    @pytest.fixture(autouse=True)
    async def _stack(self, stack: Stack, unique: str) -> AsyncIterator[None]:
        self.url = stack.redis_url
        self.prefix = f"{unique}:"
        self.made: list[RedisLiveState] = []
        yield
        for live in self.made:
            await live.close()

    async def make_live(self) -> RedisLiveState:
        live = RedisLiveState(self.url, prefix=self.prefix)
        self.made.append(live)
        return live


async def test_redis_never_moves_a_vehicle_back_in_time(stack: Stack, unique: str) -> None:
    live = RedisLiveState(stack.redis_url, prefix=f"{unique}:")
    await live.put_many([vehicle("v1", ts=20.0, battery_pct=50.0)])
    await live.put_many([vehicle("v1", ts=10.0, battery_pct=90.0)])  # a late writer
    state = await live.get("v1")
    assert state is not None
    assert (state.ts, state.battery_pct) == (20.0, 50.0)
    await live.close()


async def test_redis_nearest_uses_the_geo_index(stack: Stack, unique: str) -> None:
    live = RedisLiveState(stack.redis_url, prefix=f"{unique}:")
    await live.put_many(
        [
            vehicle("near", lat=48.2000, lon=11.6000),
            vehicle("mid", lat=48.2030, lon=11.6000),
            vehicle("far", lat=48.3000, lon=11.6000),
        ]
    )
    found = await live.nearest(48.2001, 11.6000, radius_m=1000, limit=5)
    assert [(s.id, round(d)) for s, d in found] == [("near", 11), ("mid", 322)]
    await live.close()


class TestPostgisRecords(RecordsContract):
    @pytest.fixture(autouse=True)
    async def _stack(self, stack: Stack) -> AsyncIterator[None]:
        upgrade(stack.database_url)
        self.url = stack.database_url
        self.made: list[PostgisRecords] = []
        yield
        for records in self.made:
            await records.close()

    async def make_records(self) -> PostgisRecords:
        records = PostgisRecords(self.url)
        await records.open()
        self.made.append(records)
        return records


@pytest.fixture
async def records(stack: Stack) -> AsyncIterator[PostgisRecords]:
    upgrade(stack.database_url)
    store = PostgisRecords(stack.database_url)
    await store.open()
    yield store
    await store.close()


async def test_postgis_history_is_exactly_once_across_replays(
    records: PostgisRecords, unique: str
) -> None:
    now = time.time()
    batch = [vehicle(unique, ts=now + i, lat=48.2 + i * 1e-4) for i in range(50)]
    await records.add_track_points(batch)
    await records.add_track_points(batch[20:])  # a replay after a crash
    await records.add_track_points([vehicle(unique, ts=now - 86_400)])  # yesterday's partition
    points = await records.track(unique, since=now - 100_000, limit=1000)
    assert len(points) == 51
    assert [p.ts for p in points] == sorted(p.ts for p in points)


async def test_postgis_history_text_rows_keep_their_key_and_fields(
    records: PostgisRecords, unique: str, stack: Stack
) -> None:
    """History rows go in as COPY text: a row bound as a datetime parameter (as rows
    were written before) has the same key, and awkward ids and missing segments
    survive the text format."""
    ts = time.time() + 0.1234567
    odd = f"{unique}\\tab\there"
    with psycopg.connect(stack.database_url) as conn:
        conn.execute(
            "INSERT INTO telemetry (vehicle_id, ts, received_at, geom, x, y, heading, speed, "
            "battery, status, occupancy, segment) VALUES (%s, %s, %s, "
            "'SRID=4326;POINT(16.37 48.2)', 0, 0, 0, 0, 50, 'idle', 0, NULL)",
            (unique, datetime.fromtimestamp(ts, UTC), datetime.fromtimestamp(ts, UTC)),
        )
    await records.add_track_points([vehicle(unique, ts=ts), vehicle(odd, ts=ts, segment=None)])
    assert len(await records.track(unique, since=ts - 1, limit=10)) == 1
    [point] = await records.track(odd, since=ts - 1, limit=10)
    assert point.ts == pytest.approx(ts, abs=1e-6)
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute("SELECT segment FROM telemetry WHERE vehicle_id = %s", (odd,)).fetchone()
    assert row == (None,)


async def test_postgis_alerts_upsert_and_clear(records: PostgisRecords, unique: str) -> None:
    alert = Alert(f"{unique}:a", unique, AlertKind.ESTOP, "critical", "stop", time.time())
    await records.add_alerts([alert])
    await records.add_alerts([alert])
    assert [a.id for a in await records.alerts(unique, active_only=True, limit=10)] == [alert.id]
    await records.add_alerts([replace(alert, cleared_at=time.time())])
    assert await records.alerts(unique, active_only=True, limit=10) == []
    assert len(await records.alerts(unique, active_only=False, limit=10)) == 1


async def test_postgis_nearest_history_uses_the_gist_index(
    records: PostgisRecords, unique: str
) -> None:
    now = time.time()
    await records.add_track_points(
        [vehicle(f"{unique}-{i}", ts=now, lat=48.0 + i * 0.001, lon=11.0) for i in range(30)]
    )
    found = await records.nearest_fixes(48.0101, 11.0, now - 10, now + 10, 250, 10)
    ids = [f.vehicle_id for f in found if f.vehicle_id.startswith(unique)]
    assert ids[:3] == [f"{unique}-10", f"{unique}-11", f"{unique}-9"]
    assert all(f.distance_m <= 250 for f in found)
    plan = await records.explain_nearest(48.0101, 11.0, 250)
    assert "telemetry" in plan
    assert "geom" in plan
    assert "Index" in plan, plan


def test_registry_refresh_reads_new_registrations_and_now_and_then_everything(
    stack: Stack, unique: str
) -> None:
    """One process registers, another (the bridge) refreshes its copy: new vehicles
    arrive with the cheap incremental read, a changed manufacturer too, and the full
    read every few minutes drops the old name."""
    upgrade(stack.database_url)
    clock = [1000.0]
    api = PostgresVehicleRegistry(stack.database_url)
    bridge = PostgresVehicleRegistry(stack.database_url, clock=lambda: clock[0])
    api.register("acme", f"{unique}-1")
    bridge.refresh()  # the first is a full read
    assert bridge.is_known("acme", f"{unique}-1")
    api.register_many([("acme", f"{unique}-2"), ("acme", f"{unique}-3")])
    clock[0] += 5
    bridge.refresh()
    assert bridge.is_known("acme", f"{unique}-2")
    assert bridge.is_known("acme", f"{unique}-3")
    api.register("zeta", f"{unique}-1")
    clock[0] += 5
    bridge.refresh()
    assert bridge.is_known("zeta", f"{unique}-1"), "re-registered: seen by the next read"
    assert bridge.is_known("acme", f"{unique}-1"), "the old name stays until a full read"
    clock[0] += FULL_REFRESH_S
    bridge.refresh()
    assert not bridge.is_known("acme", f"{unique}-1")
    assert bridge.is_known("zeta", f"{unique}-1")
