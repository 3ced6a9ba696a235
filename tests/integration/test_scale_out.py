"""Two processors in one consumer group over a 6-partition topic; one is killed with
SIGKILL mid-stream. The survivor takes over its partitions; afterwards every telemetry
event Kafka acknowledged is in history exactly once, and no vehicle's live state ever
went back to an older timestamp."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from headway.adapters.kafka_event_log import KafkaEventLog
from headway.adapters.redis_live_state import RedisLiveState
from headway.contracts.events import TELEMETRY_TOPIC, Telemetry, event_encoder
from headway.network.city import CityParams, generate_city
from tests.integration.conftest import ROOT, Stack

pytestmark = pytest.mark.integration

VEHICLES = 120
ROUNDS = 40


def start_processor(stack: Stack, unique: str, n: int, logs: Path) -> subprocess.Popen[bytes]:
    env = stack.headway_env(unique, HEADWAY_INSTANCE=f"{unique}-processor-{n}")
    with (logs / f"processor-{n}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "headway.entrypoints.cli", "run", "processor"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def test_sigkill_of_one_processor_loses_and_doubles_nothing(
    stack: Stack, unique: str, tmp_path: Path
) -> None:
    network = generate_city(CityParams(seed=7))
    events = KafkaEventLog(stack.kafka_bootstrap, client_id=f"{unique}-producer")
    topic = f"{unique}.{TELEMETRY_TOPIC}"
    await events.ensure_topics([topic, f"{unique}.headway.deadletter"], partitions=6)
    processors = [start_processor(stack, unique, n, tmp_path) for n in (1, 2)]
    live = RedisLiveState(stack.redis_url, prefix=f"{unique}:")
    ids = [f"{unique}-v{i:03d}" for i in range(VEHICLES)]
    seen_ts: dict[str, float] = {}
    went_back: list[str] = []
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            for vehicle_id, state in zip(ids, await live.get_many(ids), strict=True):
                if state is None:
                    continue
                if state.ts < seen_ts.get(vehicle_id, 0.0):
                    went_back.append(f"{vehicle_id}: {seen_ts[vehicle_id]} -> {state.ts}")
                seen_ts[vehicle_id] = state.ts
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.sleep(4)  # both processors join the group
        base = time.time() - 60
        for r in range(ROUNDS):
            for i, vehicle_id in enumerate(ids):
                x, y = network.node_xy[(i * 37 + r) % network.n_nodes]
                event = Telemetry(
                    vehicle_id=vehicle_id,
                    manufacturer="m",
                    ts=base + r,
                    received_at=time.time(),
                    x=float(x),
                    y=float(y),
                    theta=0.0,
                    map_id=network.frame.map_id,
                    speed_mps=5.0,
                    full=True,
                    battery_pct=90.0 - r,
                    driving=True,
                )
                events.produce(topic, vehicle_id, event_encoder.encode(event))
            await events.flush()
            if r == ROUNDS // 3:
                processors[0].send_signal(signal.SIGKILL)
            await asyncio.sleep(0.1)
        acknowledged = events.delivered
        assert acknowledged == VEHICLES * ROUNDS

        def stored() -> int:
            with psycopg.connect(stack.database_url) as conn:
                row = conn.execute(
                    "SELECT count(*), count(DISTINCT (vehicle_id, ts)) FROM telemetry "
                    "WHERE vehicle_id LIKE %s",
                    (f"{unique}-v%",),
                ).fetchone()
            assert row is not None
            assert row[0] == row[1], "a (vehicle, ts) pair is stored twice"
            return int(row[0])

        deadline = time.monotonic() + 90
        while stored() < acknowledged and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        assert stored() == acknowledged
        assert processors[1].poll() is None, "the survivor must still be running"
        final = await live.get_many(ids)
        assert all(s is not None and s.ts == base + ROUNDS - 1 for s in final)
    finally:
        done.set()
        await watcher
        for p in processors:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=30)
        await live.close()
    assert went_back == []
