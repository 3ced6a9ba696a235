"""Command → acknowledged latency at 100 commands/s with 1,000 vehicles, against a raw
MQTT round trip measured in the same run.

1,000 simulated shuttles run in a process of their own (vehicles are machines of their
own) and connect to the broker: the embedded amqtt (default) or the stack's Mosquitto
(``--broker stack``, after ``scripts/stack up``). This process runs the platform's
bridge, event log, processor and commander. With ``--broker stack`` the command
records are in the stack's PostgreSQL (a schema of this run's own) and the work queue
is a Redis Stream, as in ``headway run commander`` (``--records memory`` keeps both in
memory, to see what they cost); the event log and the live state stay in memory.
Commands arrive at a steady rate through the command service (drive to a nearby stop,
pause, resume, hold at the next stop, round robin over the fleet); each one's latency
is read from its record, accepted → acknowledged: queue, store, translation, MQTT to
the vehicle, and the vehicle's state back to the bridge.

The baseline, interleaved with the commands so that both see the same load, is the raw
round trip: a bare client publishes an instant action straight to a vehicle, and the
state that lists it is timed where the bridge receives it (where acknowledgements are
read too). The difference is what the commander costs. Last line: one JSON object.

    python bench/commands.py [--vehicles 1000] [--rate 100] [--duration 30]
                             [--broker stack [--records memory]]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from gmqtt import Client
from gmqtt.mqtt.constants import MQTTv311

from headway.adapters.gmqtt_link import GmqttSubscriber
from headway.adapters.gmqtt_publisher import GmqttCommandLink
from headway.adapters.postgres.commands import PostgresCommandStore
from headway.adapters.postgres.migrate import new_schema
from headway.adapters.redis_command_queue import RedisCommandQueue
from headway.bootstrap import build_embedded
from headway.config import Settings
from headway.contracts import vda5050
from headway.domain.commands import CommandKind, CommandParams, CommandStatus, StopVisit
from headway.entrypoints.demo import load_network
from headway.entrypoints.runtime import settle_heap
from headway.network.cch_router import CCHRouter
from headway.network.graph import RoadNetwork
from headway.services.commands.commander import Commander, CommanderConfig
from headway.services.commands.service import CommandRequest, CommandService
from headway.services.ports import CommandQueue, CommandStore
from headway.sim.vehicle import serial_number
from headway.streaming.vda_ingest import SUBSCRIPTIONS

TARGET_P99_MS = 250.0
RAW_EVERY = 4
"""One raw round trip for every fourth command, interleaved: the same load for both."""
STEPS = (CommandKind.DRIVE, CommandKind.PAUSE, CommandKind.RESUME, CommandKind.HOLD)
"""Each vehicle's commands in turn; none gets a second new order, which would rightly
wait for its first journey to end."""
PROBED = 20
"""Vehicles kept for the raw round trips (the others get the commands)."""


class _ActionIds(msgspec.Struct, rename="camel"):
    action_id: str


class _StateActions(msgspec.Struct, rename="camel"):
    action_states: list[_ActionIds]


class RawRoundTrip:
    """Publishes instant actions with a bare client, and times the state that lists each
    as the bridge receives it: the point where acknowledgements are read too."""

    def __init__(self, broker: Broker, manufacturer: str) -> None:
        self._broker = broker
        self._manufacturer = manufacturer
        self._decoder = msgspec.json.Decoder(_StateActions)
        self._sent: dict[str, float] = {}
        self.delays_s: list[float] = []
        self._client = Client(f"bench-raw-{uuid.uuid4().hex[:6]}")
        if broker.login is not None:
            self._client.set_auth_credentials(*broker.login)

    async def start(self) -> None:
        await self._client.connect(self._broker.host, self._broker.port, version=MQTTv311)

    async def stop(self) -> None:
        await self._client.disconnect()

    def send(self, serial: str) -> None:
        action_id = f"raw-{uuid.uuid4().hex[:12]}"
        message = vda5050.InstantActions(
            header_id=0,
            timestamp=vda5050.timestamp_now(),
            version=vda5050.PROTOCOL_VERSION,
            manufacturer=self._manufacturer,
            serial_number=serial,
            # stopPause on a vehicle that is not paused: finished at once, changes nothing.
            actions=[
                vda5050.Action(action_type="stopPause", action_id=action_id, blocking_type="NONE")
            ],
        )
        self._sent[action_id] = time.time()
        topic = vda5050.topic(self._manufacturer, serial, "instantActions")
        self._client.publish(topic, vda5050.encoder.encode(message), qos=1)

    def watch(self, handler: Callable[[str, bytes], None]) -> Callable[[str, bytes], None]:
        """``handler`` (the bridge's), with the raw round trips timed on the way."""

        def on_message(topic: str, payload: bytes) -> None:
            if self._sent and b"raw-" in payload and topic.endswith("/state"):
                now = time.time()
                for state in self._decoder.decode(payload).action_states:
                    sent = self._sent.pop(state.action_id, None)
                    if sent is not None:
                        self.delays_s.append(now - sent)
            handler(topic, payload)

        return on_message


@dataclass(frozen=True)
class Broker:
    name: str
    host: str
    port: int
    login: tuple[str, str] | None = None


def stack_env() -> dict[str, str]:
    """The stack's settings (``scripts/stack up`` first)."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "stack"
    out = subprocess.run(
        [str(script), "env", "--json"], capture_output=True, text=True, check=True, timeout=60
    )
    env: dict[str, str] = json.loads(out.stdout)
    return env


def stack_broker(env: dict[str, str]) -> Broker:
    """The stack's Mosquitto, with the platform's login."""
    return Broker(
        "mosquitto (stack)",
        env["mqtt_host"],
        int(env["stack_mqtt_port"]),
        (env["mqtt_username"], env["mqtt_password"]),
    )


class Platform:
    """The embedded platform's parts, on its own amqtt broker or on the stack's Mosquitto
    (then the bridge and the commander's link connect there instead)."""

    def __init__(self, network: RoadNetwork, stack: bool, records: str = "postgresql") -> None:
        settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="headway-bench-")))
        self.embedded = build_embedded(settings, network)
        env = stack_env() if stack else {}
        self.stack = stack_broker(env) if stack else None
        p = self.embedded
        self.command_store: CommandStore = p.command_store
        self.command_queue: CommandQueue = p.command_queue
        self.commands: CommandService = p.commands
        self._pg: PostgresCommandStore | None = None
        if stack and records == "postgresql":
            # Each run's records in a schema of its own, apart from everyone else's.
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            self._pg = PostgresCommandStore(new_schema(env["database_url"], schema), max_size=8)
            self.command_store = self._pg
            self.command_queue = RedisCommandQueue(
                env["redis_url"], prefix=f"bench-{uuid.uuid4().hex[:8]}:"
            )
            self.commands = CommandService(
                self.command_store, self.command_queue, p.live, p.registry, p.translator, p.metrics
            )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._subscriber: GmqttSubscriber | None = None
        self._link: GmqttCommandLink | None = None
        self.commander = self.embedded.commander
        self.on_message: Callable[[str, bytes], None] = self.embedded.bridge.on_message

    @property
    def pg(self) -> bool:
        return self._pg is not None

    @property
    def broker(self) -> Broker:
        if self.stack is not None:
            return self.stack
        return Broker("amqtt (embedded)", self.embedded.broker.host, self.embedded.mqtt_port)

    async def start(self, manufacturer: str, watch: RawRoundTrip) -> None:
        self.on_message = watch.watch(self.embedded.bridge.on_message)
        if self.stack is None:
            # The embedded platform's subscriber hands messages to this bound method.
            self.embedded.bridge.on_message = self.on_message  # type: ignore[method-assign, assignment]
            await self.embedded.start()
            return
        p, login = self.embedded, self.stack.login
        assert login is not None
        if self._pg is not None:
            await self._pg.open()
        self._subscriber = GmqttSubscriber(
            self.stack.host,
            self.stack.port,
            [(vda5050.topic(manufacturer, "+", kind), 1) for kind in SUBSCRIPTIONS],
            self.on_message,
            username=login[0],
            password=login[1],
        )
        await self._subscriber.start()
        self._tasks.append(asyncio.create_task(p.processor.run(self._stop)))
        self._link = GmqttCommandLink(
            self.stack.host, self.stack.port, username=login[0], password=login[1]
        )
        await self._link.start()
        self.commander = Commander(
            self.command_store,
            self.command_queue,
            self._link,
            p.log,
            p.live,
            p.translator,
            p.dead_letters,
            p.metrics,
            CommanderConfig(name="bench-commander"),
        )
        self._tasks.append(asyncio.create_task(self.commander.run(self._stop)))

    async def stop(self) -> None:
        if self.stack is None:
            await self.embedded.stop()
            return
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._link is not None:
            await self._link.stop()
        if self._subscriber is not None:
            await self._subscriber.stop()
        if self._pg is not None:
            await self.command_queue.close()
            await self._pg.close()
        await self.embedded.records.close()


async def run(
    vehicles: int,
    rate: float,
    duration_s: float,
    seed: int,
    tick_s: float = 0.05,
    stack: bool = False,
    keep: str = "postgresql",
) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    network = load_network(seed)
    router = CCHRouter(network)
    parts = Platform(network, stack, keep)
    platform = parts.embedded
    manufacturer = "headway-bench"
    serials = [serial_number(k) for k in range(vehicles)]
    for serial in serials:
        platform.registry.register(manufacturer, serial)
    probed, commanded = serials[:PROBED], serials[PROBED:]
    broker = parts.broker
    raw = RawRoundTrip(broker, manufacturer)
    await parts.start(manufacturer, raw)
    # The fleet runs in a process of its own, as vehicles are machines of their own.
    env = dict(os.environ)
    login_args: list[str] = []
    if broker.login is not None:
        login_args = [f"--mqtt-username={broker.login[0]}"]
        env["HEADWAY_SIM_MQTT_PASSWORD"] = broker.login[1]
    fleet = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "headway.sim",
        f"--vehicles={vehicles}",
        f"--seed={seed}",
        f"--mqtt-host={broker.host}",
        f"--mqtt-port={broker.port}",
        f"--manufacturer={manufacturer}",
        *login_args,
        "--no-faults",
        f"--tick={tick_s}",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120.0
        while platform.processor.known_vehicles < vehicles:
            if fleet.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError("the simulated fleet did not come up")
            await asyncio.sleep(0.1)
        await raw.start()
        settle_heap()
        await asyncio.sleep(5.0)  # the connect storm drains

        stops: dict[str, str] = {}
        for serial in commanded:
            state = await platform.live.get(serial)
            assert state is not None
            node = int(state.last_node_id[1:])
            times = router.travel_times_from(node)
            nearest = min(
                (s for s in network.stops if int(s.node) != node),
                key=lambda s: float(times[int(s.node)]),
            )
            stops[serial] = str(nearest.id)
        lags: list[float] = []
        lag_task = asyncio.create_task(_watch_loop(lags))
        cpu0, t0 = _cpu(), time.monotonic()
        ids: list[str] = []
        total = int(rate * duration_s)
        for k in range(total):
            serial = commanded[k % len(commanded)]
            step = (k // len(commanded)) % len(STEPS)
            if STEPS[step] is CommandKind.DRIVE:
                params = CommandParams(stops=(StopVisit(stops[serial]),))
            elif STEPS[step] is CommandKind.HOLD:
                params = CommandParams(duration_s=30.0)
            else:
                params = CommandParams()
            request = CommandRequest(STEPS[step], params)
            command, _ = await parts.commands.submit(serial, request, "bench")
            ids.append(command.id)
            if k % RAW_EVERY == 0:
                # The baseline, under the same load: a bare round trip to another vehicle.
                raw.send(probed[(k // RAW_EVERY) % PROBED])
            due = t0 + (k + 1) / rate
            await asyncio.sleep(max(due - time.monotonic(), 0.0))
        elapsed = time.monotonic() - t0
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            records = [await parts.command_store.get(i) for i in ids]
            if all(r is not None and r.at(CommandStatus.ACKNOWLEDGED) for r in records):
                break
            await asyncio.sleep(0.2)
        cpu = _cpu() - cpu0
        lag_task.cancel()
        latencies: dict[str, list[float]] = defaultdict(list)
        to_send: list[float] = []
        unacknowledged = 0
        for record in records:
            acknowledged = record.at(CommandStatus.ACKNOWLEDGED) if record else None
            if record is None or acknowledged is None:
                unacknowledged += 1
                continue
            latencies[record.kind.value].append((acknowledged - record.created_at) * 1000.0)
            sent = record.at(CommandStatus.SENT)
            if sent is not None:
                to_send.append((sent - record.created_at) * 1000.0)
        stats = parts.commander.stats
    finally:
        await raw.stop()
        if fleet.returncode is None:
            fleet.terminate()
            await fleet.wait()
        await parts.stop()

    every = np.array([v for values in latencies.values() for v in values])
    baseline = np.array(raw.delays_s) * 1000.0
    p99 = _pct(every, 99)
    return {
        "broker": broker.name,
        "records": "postgresql" if parts.pg else "memory",
        "queue": "redis stream" if parts.pg else "memory",
        "vehicles": vehicles,
        "rate_per_s": rate,
        "commands": len(ids),
        "achieved_rate_per_s": round(len(ids) / elapsed, 1),
        "acknowledged": int(every.size),
        "unacknowledged": unacknowledged,
        "p50_ack_ms": _pct(every, 50),
        "p99_ack_ms": p99,
        "max_ack_ms": _pct(every, 100),
        "by_kind_p50_ms": {k: _pct(np.array(v), 50) for k, v in sorted(latencies.items())},
        "by_kind_p99_ms": {k: _pct(np.array(v), 99) for k, v in sorted(latencies.items())},
        "p50_accepted_to_sent_ms": _pct(np.array(to_send), 50),
        "p99_accepted_to_sent_ms": _pct(np.array(to_send), 99),
        "baseline": "raw MQTT instantActions publish -> the state listing it, at the bridge",
        "baseline_samples": int(baseline.size),
        "baseline_p50_ms": _pct(baseline, 50),
        "baseline_p99_ms": _pct(baseline, 99),
        "overhead_p50_ms": _diff(_pct(every, 50), _pct(baseline, 50)),
        "overhead_p99_ms": _diff(p99, _pct(baseline, 99)),
        "target_p99_ms": TARGET_P99_MS,
        "meets_target": p99 is not None and p99 <= TARGET_P99_MS,
        "sends": stats.sends,
        "retries": stats.retries,
        "process_cpu_core_share": round(cpu / elapsed, 3),
        "cpus": os.cpu_count(),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "p50_event_loop_lag_ms": _pct(np.array(lags) * 1000.0, 50),
        "p99_event_loop_lag_ms": _pct(np.array(lags) * 1000.0, 99),
    }


async def _watch_loop(lags: list[float], every_s: float = 0.05) -> None:
    """How late the event loop runs a timer: the queueing every hop in the process pays."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + every_s
        await asyncio.sleep(every_s)
        lags.append(max(loop.time() - due, 0.0))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _pct(values: np.ndarray, q: float) -> float | None:
    if values.size == 0:
        return None
    return round(float(np.percentile(values, q)), 2)


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="commands per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of commands")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--broker",
        choices=("embedded", "stack"),
        default="embedded",
        help="stack: the stack's Mosquitto, PostgreSQL and Redis (scripts/stack up) for the "
        "link, the command records and the queue, instead of amqtt and memory",
    )
    parser.add_argument(
        "--records",
        choices=("postgresql", "memory"),
        default="postgresql",
        help="with --broker stack: command records in PostgreSQL and the queue on Redis "
        "(default), or both in memory",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    stack = args.broker == "stack"
    result = asyncio.run(
        run(args.vehicles, args.rate, args.duration, args.seed, stack=stack, keep=args.records)
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
