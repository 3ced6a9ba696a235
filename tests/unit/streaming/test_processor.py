"""The processor over in-memory adapters: folds a stream, survives a store outage by
replaying, and never loses or doubles history or alerts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import pytest

from headway.adapters.memory.dead_letters import MemoryDeadLetters
from headway.adapters.memory.event_log import MemoryEventLog
from headway.adapters.memory.live_state import MemoryLiveState
from headway.adapters.sqlite_records import SqliteRecords
from headway.contracts.events import TELEMETRY_TOPIC, Telemetry, event_encoder
from headway.domain.vehicles import VehicleState, VehicleStatus
from headway.network.city import CityParams, generate_city
from headway.network.graph import RoadNetwork
from headway.services.metrics import Metrics
from headway.streaming.fold import FoldRules
from headway.streaming.history_writer import HistoryWriter
from headway.streaming.processor import Processor


@pytest.fixture(scope="module")
def network() -> RoadNetwork:
    return generate_city(CityParams(seed=3, size_km=3.0))


class FlakyRecords(SqliteRecords):
    """SQLite history that fails the next ``failures`` track writes."""

    failures = 0

    async def add_track_points(self, states: Sequence[VehicleState]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("history store away")
        await super().add_track_points(states)


def at_1000(
    log: MemoryEventLog, live: MemoryLiveState, records: SqliteRecords, network: RoadNetwork
) -> Processor:
    """A processor whose clock stands at t=1000, where no vehicle counts as offline
    (only battery alerts and history are under test), keeping every fix as history."""
    return Processor(
        log,
        live,
        records,
        MemoryDeadLetters(),
        network,
        Metrics(),
        FoldRules(offline_after_s=10_000.0),
        track_interval_s=0.0,
        clock=lambda: 1000.0,
    )


def telemetry(vehicle: str, t: float, battery: float, network: RoadNetwork) -> bytes:
    x, y = (float(v) for v in network.node_xy[int(t) % network.n_nodes])
    return event_encoder.encode(
        Telemetry(
            vehicle_id=vehicle,
            manufacturer="m",
            ts=t,
            received_at=t,
            x=x,
            y=y,
            theta=0.0,
            map_id=network.frame.map_id,
            speed_mps=3.0,
            full=True,
            battery_pct=battery,
            driving=True,
        )
    )


async def test_store_outage_replays_the_batch_without_loss_or_duplicates(
    network: RoadNetwork, tmp_path: Path
) -> None:
    log = MemoryEventLog(partitions=2)
    live = MemoryLiveState()
    records = FlakyRecords(tmp_path / "h.sqlite")
    processor = at_1000(log, live, records, network)
    for t in range(1, 6):
        for v in ("a", "b"):
            log.produce(TELEMETRY_TOPIC, v, telemetry(v, float(t), 30.0 - 3 * t, network))
    records.failures = 1
    with pytest.raises(ConnectionError):
        await processor.step()
    while await processor.step():
        pass
    for v in ("a", "b"):
        points = await records.track(v, since=0, limit=100)
        assert [p.ts for p in points] == [1.0, 2.0, 3.0, 4.0, 5.0]
        state = await live.get(v)
        assert state is not None
        assert state.ts == 5.0
    leftover = await log.consumer("processor", [TELEMETRY_TOPIC]).poll(100, 0)
    assert leftover == [], "everything applied must be committed"
    alerts = await records.alerts(None, active_only=False, limit=100)
    assert sorted((a.vehicle_id, a.kind.value) for a in alerts) == [
        ("a", "low_battery"),
        ("b", "low_battery"),
    ]
    await records.close()


async def test_successor_finding_live_state_ahead_of_history_writes_the_missing_rows(
    network: RoadNetwork, tmp_path: Path
) -> None:
    """Live state is written before history: a processor that dies between the two
    leaves live state ahead, and whoever replays the batch must still record it."""
    log = MemoryEventLog(partitions=1)
    live = MemoryLiveState()
    records = FlakyRecords(tmp_path / "h.sqlite")

    def processor() -> Processor:
        return at_1000(log, live, records, network)

    for t in range(1, 5):
        log.produce(TELEMETRY_TOPIC, "a", telemetry("a", float(t), 80.0, network))
    records.failures = 1
    with pytest.raises(ConnectionError):
        await processor().step()
    state = await live.get("a")
    assert state is not None
    assert state.ts == 4.0, "live state is written first"
    successor = processor()
    while await successor.step():
        pass
    points = await records.track("a", since=0, limit=100)
    assert [p.ts for p in points] == [1.0, 2.0, 3.0, 4.0]
    log.produce(TELEMETRY_TOPIC, "a", telemetry("a", 2.5, 80.0, network))
    await successor.step()
    points = await records.track("a", since=0, limit=100)
    assert [p.ts for p in points] == [1.0, 2.0, 2.5, 3.0, 4.0], "a late fix is history too"
    state = await live.get("a")
    assert state is not None
    assert state.ts == 4.0, "a late fix never moves live state back"
    await records.close()


async def test_bad_record_on_the_log_is_dead_lettered_and_the_rest_applied(
    network: RoadNetwork, tmp_path: Path
) -> None:
    log = MemoryEventLog(partitions=1)
    live = MemoryLiveState()
    dead = MemoryDeadLetters()
    records = SqliteRecords(tmp_path / "h.sqlite")
    processor = Processor(log, live, records, dead, network, Metrics())
    log.produce(TELEMETRY_TOPIC, "a", telemetry("a", 1.0, 80.0, network))
    log.produce(TELEMETRY_TOPIC, "a", b"\x93garbage")
    log.produce(TELEMETRY_TOPIC, "a", telemetry("a", 2.0, 79.0, network))
    other_map = Telemetry(
        vehicle_id="a",
        manufacturer="m",
        ts=3.0,
        received_at=3.0,
        x=0,
        y=0,
        theta=0,
        map_id="elsewhere",
        full=True,
        battery_pct=70,
    )
    log.produce(TELEMETRY_TOPIC, "a", event_encoder.encode(other_map))
    await processor.step()
    state = await live.get("a")
    assert state is not None
    assert state.ts == 2.0
    assert await dead.counts() == {"undecodable": 1, "unknown_map": 1}
    await records.close()


class StalledRecords(SqliteRecords):
    """SQLite history that fails every track write while ``away`` is set."""

    away = True

    async def add_track_points(self, states: Sequence[VehicleState]) -> None:
        if self.away:
            raise ConnectionError("history store away")
        await super().add_track_points(states)


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.02)


async def test_running_live_state_moves_on_while_history_is_away_and_nothing_is_lost(
    network: RoadNetwork, tmp_path: Path
) -> None:
    """run() writes history beside the cycle: an outage of the history store holds back
    history and the offsets, not live state; once it is back, every row is stored."""
    log = MemoryEventLog(partitions=2)
    live = MemoryLiveState()
    records = StalledRecords(tmp_path / "h.sqlite")
    processor = at_1000(log, live, records, network)
    stop = asyncio.Event()
    running = asyncio.create_task(processor.run(stop, history_beside=True))
    for t in range(1, 4):
        log.produce(TELEMETRY_TOPIC, "a", telemetry("a", float(t), 80.0, network))

    async def live_at(ts: float) -> bool:
        state = await live.get("a")
        return state is not None and state.ts == ts

    await eventually(lambda: live_at(3.0))
    assert await records.track("a", since=0, limit=100) == []
    uncommitted = await log.consumer("processor", [TELEMETRY_TOPIC]).poll(100, 0)
    assert len(uncommitted) == 3, "offsets wait for history"
    log.produce(TELEMETRY_TOPIC, "a", telemetry("a", 4.0, 80.0, network))
    await eventually(lambda: live_at(4.0))
    records.away = False

    async def stored() -> bool:
        return len(await records.track("a", since=0, limit=100)) == 4

    await eventually(stored)
    points = await records.track("a", since=0, limit=100)
    assert [p.ts for p in points] == [1.0, 2.0, 3.0, 4.0]

    async def committed() -> bool:
        return await log.consumer("processor", [TELEMETRY_TOPIC]).poll(100, 0) == []

    await eventually(committed)
    stop.set()
    await asyncio.wait_for(running, 10)
    await records.close()


async def test_history_writer_holds_the_processor_back_once_too_much_waits(
    network: RoadNetwork, tmp_path: Path
) -> None:
    log = MemoryEventLog(partitions=1)
    records = StalledRecords(tmp_path / "h.sqlite")
    consumer = log.consumer("g", [TELEMETRY_TOPIC])
    writer = HistoryWriter(records, consumer, max_waiting=3)
    now = 1000.0
    rows = [
        VehicleState(
            "a",
            "m",
            now + i,
            now + i,
            0,
            0,
            49.4,
            8.7,
            0,
            0,
            80,
            False,
            True,
            VehicleStatus.DRIVING,
        )
        for i in range(4)
    ]
    writer.add(rows[:2], {})
    await asyncio.wait_for(writer.room(), 1)  # 2 < 3: no wait
    writer.add(rows[2:], {})
    room = asyncio.create_task(writer.room())
    await asyncio.sleep(0.05)
    assert not room.done(), "4 rows wait: the processor must wait"
    with pytest.raises(ConnectionError):
        await writer.write()
    assert writer.waiting == 4, "a failed write keeps its rows"
    records.away = False
    await writer.write()
    await asyncio.wait_for(room, 1)
    assert len(await records.track("a", since=0, limit=100)) == 4
    await records.close()
