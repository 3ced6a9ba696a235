"""Ingest through the real stack: MQTT (Mosquitto) -> bridge -> Kafka -> processors ->
Redis + PostGIS, under an open-loop load, against the bare broker's ceiling.

An open-loop generator (its own process, four MQTT connections with the platform's
login, QoS 1) publishes VDA 5050 ``state`` messages for many moving vehicles at a fixed
rate, whatever the system does. Measured in the same run:
- baseline: the same generator against Mosquitto with a bare subscriber that only reads
  each message's timestamp (the transport's ceiling and latency floor);
- pipeline: one bridge and ``--processors`` processors (separate processes, started and
  ready before the load begins); publish->visible latency is read from Redis change
  notifications after ``--warmup`` seconds, loss by counting history rows in PostgreSQL
  (in a schema of the run's own, dropped afterwards with its topics and keys) against
  the messages the broker acknowledged (warm-up included); CPU per process from
  /proc, PostgreSQL's summed over its backends, and the load average, since other work
  on the machine moves every latency.
The bridge listens only to this bench's manufacturer in a share group of its own, so
other traffic on the same broker is not in the figures. Last line: one JSON object.

    python bench/ingest_stack.py [--rate 5000] [--duration 60] [--vehicles 5000]
                                 [--processors 2] [--warmup 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import paho.mqtt.client as paho
import psutil
import psycopg
import redis.asyncio as aioredis
from confluent_kafka.admin import AdminClient

from headway.adapters.postgres.migrate import new_schema
from headway.adapters.postgres.registry import PostgresVehicleRegistry
from headway.adapters.redis_live_state import decode_state
from headway.contracts import vda5050
from headway.network.city import CityParams, generate_city

ROOT = Path(__file__).resolve().parents[1]
MANUFACTURER = "bench"


def stack_env() -> dict[str, str]:
    subprocess.run([str(ROOT / "scripts" / "stack"), "up"], check=True, capture_output=True)
    out = subprocess.run(
        [str(ROOT / "scripts" / "stack"), "env", "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {k: str(v) for k, v in json.loads(out).items()}


class _Publisher(asyncio.Protocol):
    """One MQTT 3.1.1 connection that publishes at QoS 1 and counts PUBACKs. Written by
    hand because paho cost ~65 us of CPU per message here (its network thread and the
    GIL), more than the bridge and the processors together; this costs a few."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.connected = asyncio.get_running_loop().create_future()
        self.acked = 0
        self._buffer = b""
        self._mid = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        pos = 0
        while len(buffer) - pos >= 2:
            length = buffer[pos + 1]  # every packet the broker sends here is short
            if len(buffer) - pos < 2 + length:
                break
            kind = buffer[pos] >> 4
            if kind == 4:
                self.acked += 1
            elif kind == 2 and not self.connected.done():
                self.connected.set_result(buffer[pos + 3] == 0)
            pos += 2 + length
        self._buffer = buffer[pos:]

    def publish(self, topic: bytes, payload: bytes) -> None:
        self._mid = self._mid % 65535 + 1
        body = struct.pack("!H", len(topic)) + topic + struct.pack("!H", self._mid) + payload
        assert self.transport is not None
        self.transport.write(_packet(0x32, body))


def _packet(first: int, body: bytes) -> bytes:
    size, length = len(body), bytearray()
    while True:
        size, digit = size >> 7, size & 0x7F
        length.append(digit | (0x80 if size else 0))
        if not size:
            break
    return bytes([first]) + bytes(length) + body


async def _connect(env: dict[str, str], client_id: str) -> _Publisher:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(
        _Publisher, env["mqtt_host"], int(env["stack_mqtt_port"])
    )

    def text(value: str) -> bytes:
        return struct.pack("!H", len(value.encode())) + value.encode()

    body = text("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", 60)
    body += text(client_id) + text(env["mqtt_username"]) + text(env["mqtt_password"])
    assert proto.transport is not None
    proto.transport.write(_packet(0x10, body))
    if not await asyncio.wait_for(proto.connected, 10):
        raise RuntimeError("the broker refused the load generator's login")
    return proto


def generate(
    env: dict[str, str],
    serials: list[str],
    rate: float,
    duration: float,
    connections: int,
    result: Any,
) -> None:
    """Publish ``rate`` state messages per second for ``duration`` s, round-robin over the
    vehicles, spread over ``connections`` MQTT connections; report published and acked."""
    asyncio.run(_generate(env, serials, rate, duration, connections, result))


async def _generate(
    env: dict[str, str],
    serials: list[str],
    rate: float,
    duration: float,
    connections: int,
    result: Any,
) -> None:
    network = generate_city(CityParams(seed=7))
    clients = [await _connect(env, f"loadgen-{c}-{os.getpid()}") for c in range(connections)]
    header = [0] * len(serials)
    topics = [vda5050.topic(MANUFACTURER, s, "state").encode() for s in serials]
    # Each vehicle drives on: 10 m further along its road per message, then onto a
    # random next road, so positions are what a real vehicle would report.
    rng = np.random.default_rng(len(serials))
    edges = rng.integers(0, network.n_edges, len(serials)).tolist()
    offsets = [0.0] * len(serials)
    published = 0
    start = time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= duration:
            break
        due = int(elapsed * rate)
        while published < due:
            i = published % len(serials)
            offsets[i] += 10.0
            if offsets[i] >= network.edge_length_m[edges[i]]:
                following = network.out_edges(int(network.edge_dst[edges[i]]))
                edges[i] = int(following[rng.integers(len(following))])
                offsets[i] = 0.0
            x, y, theta = network.position_at(edges[i], offsets[i])
            header[i] += 1
            body = vda5050.minimal_state(
                manufacturer=MANUFACTURER,
                serial_number=serials[i],
                header_id=header[i],
                x=float(x),
                y=float(y),
                theta=float(theta),
                map_id=network.frame.map_id,
            )
            clients[published % connections].publish(topics[i], vda5050.encoder.encode(body))
            published += 1
        await asyncio.sleep(0.002)
    deadline = time.monotonic() + 30
    while sum(c.acked for c in clients) < published and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for client in clients:
        if client.transport is not None:
            client.transport.write(b"\xe0\x00")
            client.transport.close()
    result.update(
        published=published,
        acked=sum(c.acked for c in clients),
        seconds=time.monotonic() - start,
        cpu_s=time.process_time(),
    )


def run_generator(
    env: dict[str, str], serials: list[str], rate: float, duration: float, connections: int = 4
) -> tuple[multiprocessing.Process, Any]:
    manager = multiprocessing.Manager()
    result = manager.dict()
    proc = multiprocessing.Process(
        target=generate, args=(env, serials, rate, duration, connections, result)
    )
    proc.start()
    return proc, result


async def baseline(
    env: dict[str, str], serials: list[str], rate: float, duration: float
) -> dict[str, Any]:
    stamp = msgspec.json.Decoder(dict[str, Any])
    delays: list[float] = []

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        ts = vda5050.parse_timestamp(stamp.decode(message.payload)["timestamp"])
        delays.append(time.time() - ts)

    sub = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bare-{uuid.uuid4().hex[:6]}")
    sub.username_pw_set(env["mqtt_username"], env["mqtt_password"])
    sub.on_message = on_message
    sub.connect(env["mqtt_host"], int(env["stack_mqtt_port"]))
    sub.subscribe(f"uagv/v2/{MANUFACTURER}/+/state", qos=1)
    sub.loop_start()
    await asyncio.sleep(0.5)
    proc, result = run_generator(env, serials, rate, duration)
    await asyncio.to_thread(proc.join)
    deadline = time.monotonic() + 30  # a loaded machine delivers the tail late
    while len(delays) < int(result["acked"]) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    sub.loop_stop()
    sub.disconnect()
    ms = np.array(delays) * 1000
    return {
        "load_average": load_average(),
        "events_per_s": round(len(delays) / duration, 1),
        "received": len(delays),
        "published": result["published"],
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
    }


def start(process: str, env: dict[str, str], prefix: str, n: int) -> subprocess.Popen[bytes]:
    child = dict(
        os.environ,
        HEADWAY_KAFKA_BOOTSTRAP=env["kafka_bootstrap"],
        HEADWAY_KAFKA_TOPIC_PREFIX=f"{prefix}.",
        HEADWAY_REDIS_URL=env["redis_url"],
        HEADWAY_REDIS_PREFIX=f"{prefix}:",
        HEADWAY_DATABASE_URL=env["database_url"],
        HEADWAY_MQTT_HOST=env["mqtt_host"],
        HEADWAY_STACK_MQTT_PORT=env["stack_mqtt_port"],
        HEADWAY_MQTT_USERNAME=env["mqtt_username"],
        HEADWAY_MQTT_PASSWORD=env["mqtt_password"],
        HEADWAY_INSTANCE=f"{prefix}-{process}-{n}",
        HEADWAY_OFFLINE_AFTER_S="3600",
        # Only this bench's vehicles: the broker may be carrying other traffic.
        HEADWAY_BRIDGE_MANUFACTURER=MANUFACTURER,
    )
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / f"{prefix}-{process}-{n}.log"
    with logs.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "headway.entrypoints.cli", "run", process],
            env=child,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def wait_ready(
    prefix: str, children: dict[str, subprocess.Popen[bytes]], timeout_s: float = 180.0
) -> None:
    """Each process logs one line naming itself once it is connected and subscribed."""
    deadline = time.monotonic() + timeout_s
    for name, child in children.items():
        role, n = name.split("-")[0], name.split("-")[-1] if "-" in name else "1"
        logs = Path(os.environ.get("TMPDIR", "/tmp")) / f"{prefix}-{role}-{n}.log"
        while f"{role} {prefix}-{role}-{n}:" not in logs.read_text(errors="replace"):
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start; see {logs}")
            await asyncio.sleep(0.5)


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    out = {}
    for name, pid in pids.items():
        try:
            times = psutil.Process(pid).cpu_times()
            out[name] = times.user + times.system + times.children_user + times.children_system
        except psutil.Error:
            out[name] = 0.0
    return out


def service_pids() -> dict[str, int]:
    pids = {}
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "kafka.Kafka" in cmd:
            pids["kafka"] = proc.pid
        elif proc.info["name"] == "mosquitto":
            pids["mosquitto"] = proc.pid
        elif proc.info["name"] == "redis-server":
            pids["redis"] = proc.pid
    return pids


def postgres_cpu_seconds() -> dict[int, float]:
    """CPU of every PostgreSQL process (the server forks one per connection)."""
    out = {}
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] in ("postgres", "postmaster"):
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            out[proc.pid] = times.user + times.system
    return out


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


async def clean_up(env: dict[str, str], redis: aioredis.Redis, prefix: str) -> None:
    """Leave the stack as the run found it: a broker that kept every run's topics (six
    partitions each) spent more and more of its time on them, and later runs measured
    that instead of the pipeline."""
    admin = AdminClient({"bootstrap.servers": env["kafka_bootstrap"]})
    mine = [t for t in admin.list_topics(timeout=10).topics if t.startswith(f"{prefix}.")]
    if mine:
        for future in admin.delete_topics(mine).values():
            future.result(timeout=30)
    keys = [key async for key in redis.scan_iter(match=f"{prefix}:*", count=1000)]
    for start in range(0, len(keys), 1000):
        await redis.unlink(*keys[start : start + 1000])
    with psycopg.connect(env["database_url"], autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {prefix} CASCADE")  # the run's tables (pipeline())


async def pipeline(
    env: dict[str, str],
    serials: list[str],
    rate: float,
    duration: float,
    processors: int,
    warmup: float,
) -> dict[str, Any]:
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    # This run's tables in a schema of its own, dropped afterwards. A run that wrote
    # into the shared tables left its rows and their index entries behind (or, deleted,
    # a vacuum for the next run to pay): 12.7 million rows of earlier runs had tripled
    # PostgreSQL's cost per row (0.28 of a core at 5,000/s against 0.10-0.14 without).
    stack = env
    env = {**stack, "database_url": new_schema(stack["database_url"], prefix)}
    registry = PostgresVehicleRegistry(env["database_url"])
    registry.register_many([(MANUFACTURER, s) for s in serials])
    children = {"bridge": start("bridge", env, prefix, 1)}
    for n in range(1, processors + 1):
        children[f"processor-{n}"] = start("processor", env, prefix, n)
    # Publish only once every process is up: a message published before the bridge
    # subscribed goes to nobody (on a loaded machine start-up took over 30 s).
    await wait_ready(prefix, children)
    await asyncio.sleep(3)  # the processors join their consumer group
    redis = aioredis.from_url(env["redis_url"])
    pubsub = redis.pubsub()
    await pubsub.subscribe(f"{prefix}:changes")
    delays: list[float] = []
    last_version = [0]
    measure_from = [float("inf")]  # wall clock: latencies count once the warm-up is over

    arrivals: asyncio.Queue[tuple[float, int]] = asyncio.Queue()

    async def listen() -> None:
        """Stamps each change notice as it arrives: when the batch became visible, also
        when the reading below falls behind."""
        async for message in pubsub.listen():
            if message["type"] == "message":
                arrivals.put_nowait((time.time(), int(message["data"])))

    async def watch() -> None:
        while True:
            seen_at, version = await arrivals.get()
            # A sample of each batch (up to 50 vehicles) keeps the watcher itself cheap.
            # Vehicles changed again since are out of this range: what is read is what
            # the notice announced.
            ids = await redis.zrangebyscore(
                f"{prefix}:changed", f"({last_version[0]}", version, start=0, num=50
            )
            last_version[0] = max(last_version[0], version)
            if not ids or seen_at < measure_from[0]:
                continue
            async with redis.pipeline(transaction=False) as pipe:
                for vehicle_id in ids:
                    pipe.hget(f"{prefix}:v:{vehicle_id.decode()}", "s")
                blobs = await pipe.execute()
            delays.extend(seen_at - decode_state(b).ts for b in blobs if b)

    watchers = [asyncio.create_task(listen()), asyncio.create_task(watch())]
    pids = {name: p.pid for name, p in children.items()} | service_pids()
    cpu0, pg0, t0 = cpu_seconds(pids), postgres_cpu_seconds(), time.monotonic()
    watcher0 = time.process_time()
    load_before = load_average()
    measure_from[0] = time.time() + warmup
    proc, result = run_generator(env, serials, rate, warmup + duration)
    await asyncio.to_thread(proc.join)
    elapsed = time.monotonic() - t0
    cpu1, pg1 = cpu_seconds(pids), postgres_cpu_seconds()
    load_after = load_average()
    share = {k: round((cpu1[k] - cpu0[k]) / elapsed, 2) for k in pids}
    share["postgres"] = round(sum(t - pg0.get(pid, 0.0) for pid, t in pg1.items()) / elapsed, 2)
    share["generator"] = round(float(result["cpu_s"]) / elapsed, 2)
    # The latency watcher (this process): if it were starved, its own lag would count.
    share["watcher"] = round((time.process_time() - watcher0) / elapsed, 2)
    # CPU per event of Headway's own processes: what the machine's other load does not
    # change much, unlike latency.
    ours = sum(cpu1[k] - cpu0[k] for k in children)
    per_event_us = round(ours / max(int(result["acked"]), 1) * 1e6, 1)

    def stored() -> int:
        with psycopg.connect(env["database_url"]) as conn:
            row = conn.execute(
                "SELECT count(*) FROM telemetry WHERE vehicle_id = ANY(%s)"
                " AND received_at > now() - interval '1 hour'",
                (serials,),
            ).fetchone()
        return int(row[0]) if row else 0

    acked = int(result["acked"])
    # A starved pipeline may still be catching up: wait while history keeps growing, so
    # that "lost" means lost rather than late.
    count, deadline, last_growth = stored(), time.monotonic() + 900, time.monotonic()
    while count < acked and time.monotonic() < deadline and time.monotonic() - last_growth < 30:
        await asyncio.sleep(1)
        now_count = stored()
        if now_count > count:
            last_growth = time.monotonic()
        count = now_count
    drained_after_s = round(time.monotonic() - t0 - elapsed, 1)
    for task in watchers:
        task.cancel()
    for child in children.values():
        child.terminate()
    for child in children.values():
        child.wait(timeout=30)
    await clean_up(stack, redis, prefix)
    await redis.aclose()
    ms = np.array(delays) * 1000 if delays else np.array([float("nan")])
    return {
        "published": int(result["published"]),
        "acked": acked,
        "in_history": count,
        "lost": acked - count,
        "history_complete_after_load_s": drained_after_s,
        "events_per_s": round(acked / (warmup + duration), 1),
        "latency_samples": len(delays),
        "p50_publish_to_visible_ms": round(float(np.percentile(ms, 50)), 1),
        "p99_publish_to_visible_ms": round(float(np.percentile(ms, 99)), 1),
        "cpu_core_share": share,
        "bridge_and_processors_cpu_us_per_event": per_event_us,
        "load_average_before_after": [load_before, load_after],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=5000.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--vehicles", type=int, default=5000)
    parser.add_argument("--processors", type=int, default=2)
    parser.add_argument(
        "--warmup",
        type=float,
        default=10.0,
        help="seconds of load before latencies count (every vehicle's first message "
        "costs a state read and a fresh map matcher); loss counts them all",
    )
    args = parser.parse_args()
    env = stack_env()
    run = uuid.uuid4().hex[:4]
    serials = [f"b{run}-{i:05d}" for i in range(args.vehicles)]
    base = await baseline(env, serials, args.rate, min(args.duration, 20.0))
    print(f"baseline {json.dumps(base)}", file=sys.stderr)
    result = await pipeline(env, serials, args.rate, args.duration, args.processors, args.warmup)
    print(f"pipeline {json.dumps(result)}", file=sys.stderr)
    print(
        json.dumps(
            {
                "bench": "ingest_stack",
                "rate": args.rate,
                "duration_s": args.duration,
                "vehicles": args.vehicles,
                "processors": args.processors,
                "warmup_s": args.warmup,
                "pipeline": result,
                "baseline": base,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
