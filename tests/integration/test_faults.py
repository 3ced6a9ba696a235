"""Faults of the real services while telemetry flows through bridge and processor
processes: Kafka stopped for 10 s, Redis restarted, PostgreSQL restarted. Afterwards
every message the MQTT broker acknowledged is in history exactly once, and the API
serves the live fleet again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import paho.mqtt.client as paho
import psycopg
import pytest

from headway.adapters.postgres.migrate import upgrade
from headway.adapters.postgres.registry import PostgresVehicleRegistry
from headway.contracts import vda5050
from headway.network.city import CityParams, generate_city
from tests.integration.conftest import ROOT, Stack, run_stack

pytestmark = pytest.mark.integration

MANUFACTURER = "faults"
VEHICLES = 50


@dataclass
class Publisher:
    """Publishes every vehicle's state once a second over MQTT (QoS 1), counting acks."""

    stack: Stack
    serials: list[str]
    acked: int = 0
    published: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        network = generate_city(CityParams(seed=7))
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"pub-{os.getpid()}")
        client.username_pw_set(self.stack.mqtt_username, self.stack.mqtt_password)

        def on_publish(*_: object) -> None:
            self.acked += 1

        client.on_publish = on_publish
        client.connect(self.stack.mqtt_host, self.stack.mqtt_port)
        client.loop_start()
        tick = 0
        while not self.stop.is_set():
            for i, serial in enumerate(self.serials):
                x, y = network.node_xy[(i * 101 + tick) % network.n_nodes]
                body = vda5050.minimal_state(
                    manufacturer=MANUFACTURER,
                    serial_number=serial,
                    header_id=tick,
                    x=float(x),
                    y=float(y),
                    theta=0.0,
                    map_id=network.frame.map_id,
                )
                payload = vda5050.encoder.encode(body)
                client.publish(vda5050.topic(MANUFACTURER, serial, "state"), payload, qos=1)
                self.published += 1
            tick += 1
            self.stop.wait(1.0)
        deadline = time.monotonic() + 30
        while self.acked < self.published and time.monotonic() < deadline:
            time.sleep(0.05)
        client.loop_stop()
        client.disconnect()


@pytest.fixture
def flow(stack: Stack, unique: str, tmp_path: Path) -> Iterator[tuple[Publisher, dict[str, str]]]:
    serials = [f"{unique}-{i:03d}" for i in range(VEHICLES)]
    upgrade(stack.database_url)
    PostgresVehicleRegistry(stack.database_url).register_many([(MANUFACTURER, s) for s in serials])
    env = stack.headway_env(unique)
    procs = []
    for name in ("bridge", "processor"):
        with (tmp_path / f"{name}.log").open("wb") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "headway.entrypoints.cli", "run", name],
                    env=dict(env, HEADWAY_INSTANCE=f"{unique}-{name}"),
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    for name in ("bridge", "processor"):
        wait_for_log(tmp_path / f"{name}.log", f"{unique}-{name}: ", timeout_s=90)
    time.sleep(2)  # the consumer joins its group
    publisher = Publisher(stack, serials)
    thread = threading.Thread(target=publisher.run, daemon=True)
    thread.start()
    try:
        yield publisher, env
    finally:
        publisher.stop.set()
        thread.join(timeout=60)
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def wait_for_log(path: Path, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    pytest.fail(f"{path.name} never said {text!r}:\n{path.read_text(errors='replace')[-2000:]}")


def history_count(stack: Stack, prefix: str) -> tuple[int, int]:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (vehicle_id, ts)) FROM telemetry "
            "WHERE vehicle_id LIKE %s",
            (f"{prefix}-%",),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def all_in_history(stack: Stack, unique: str, publisher: Publisher, timeout_s: float) -> None:
    publisher.stop.set()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if publisher.acked == publisher.published:
            total, distinct = history_count(stack, unique)
            assert total == distinct, "a telemetry event is stored twice"
            if total == publisher.acked:
                return
        time.sleep(0.5)
    total, _ = history_count(stack, unique)
    pytest.fail(f"history has {total} of {publisher.acked} acknowledged messages")


def kill_pid_file(path: Path, sig: signal.Signals = signal.SIGTERM) -> None:
    pid = int(path.read_text().split()[0])
    os.kill(pid, sig)
    for _ in range(600):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} from {path} did not stop")


def test_kafka_away_for_10_s_loses_nothing(
    stack: Stack, unique: str, flow: tuple[Publisher, dict[str, str]]
) -> None:
    publisher, _ = flow
    time.sleep(3)
    kill_pid_file(stack.dir / "kafka" / "kafka.pid")
    time.sleep(10)
    run_stack("up")
    time.sleep(3)
    all_in_history(stack, unique, publisher, timeout_s=90)


def test_postgres_restart_the_history_writer_resumes(
    stack: Stack, unique: str, flow: tuple[Publisher, dict[str, str]]
) -> None:
    publisher, _ = flow
    time.sleep(3)
    kill_pid_file(stack.dir / "pg" / "data" / "postmaster.pid", signal.SIGINT)
    time.sleep(3)
    run_stack("up")
    time.sleep(3)
    all_in_history(stack, unique, publisher, timeout_s=90)


def test_redis_restart_live_state_and_api_come_back(
    stack: Stack, unique: str, flow: tuple[Publisher, dict[str, str]]
) -> None:
    from headway.config import Settings
    from headway.domain.users import Role
    from headway.entrypoints.api.app import create_app
    from headway.entrypoints.api.context import ApiContext
    from headway.entrypoints.processes import build_stack_api

    publisher, env = flow
    settings = Settings(
        redis_url=env["HEADWAY_REDIS_URL"],
        redis_prefix=env["HEADWAY_REDIS_PREFIX"],
        database_url=stack.database_url,
        jwt_secret="x" * 40,
    )

    async def scenario() -> float:
        ctx, open_stores, close_stores = build_stack_api(settings)
        await open_stores()
        try:
            return await served_again(ctx)
        finally:
            await close_stores()

    async def served_again(ctx: ApiContext) -> float:
        app = create_app(ctx, ROOT / "no-web")
        token = ctx.identity.issue("ops", Role.OPERATOR)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://api",
            headers={"Authorization": f"Bearer {token}"},
        ) as api:

            async def fleet_served() -> bool:
                try:
                    r = await api.get("/api/v1/vehicles", params={"limit": 1000})
                except Exception:
                    return False
                return r.status_code == 200 and len(r.json()["items"]) == VEHICLES

            for _ in range(100):
                if await fleet_served():
                    break
                await asyncio.sleep(0.2)
            else:
                pytest.fail("the fleet never showed up in the API")
            await asyncio.to_thread(kill_pid_file, stack.dir / "redis" / "redis.pid")
            down = await api.get("/api/v1/vehicles")
            assert down.status_code == 503
            await asyncio.to_thread(run_stack, "up")
            back = time.monotonic()
            for _ in range(300):
                if await fleet_served():
                    return time.monotonic() - back
                await asyncio.sleep(0.1)
            pytest.fail("the API did not serve the fleet again after Redis came back")
        return 0.0

    recovered_s = asyncio.run(scenario())
    print(f"API serving the whole fleet {recovered_s:.2f} s after Redis was back")
    all_in_history(stack, unique, publisher, timeout_s=60)
