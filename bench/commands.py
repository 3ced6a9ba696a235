"""Command → acknowledged latency of the embedded profile, against a raw MQTT round trip.

1,000 simulated shuttles (in a process of their own, as vehicles are machines of their
own) connected to the embedded platform (broker, bridge, event log, processor,
commander), in this process. Commands arrive at a steady rate through the command service
(drive to a nearby stop, then pause, then resume, round robin over the fleet), and each
one's latency is read from its record: accepted → acknowledged, i.e. queue, store,
translation, MQTT to the vehicle, the vehicle's state back through the bridge and the
event log, and the tracker's save.

The baseline, measured in the same run, on the same broker and fleet and interleaved
with the commands so that both see the same load, is the raw round trip: a bare client
publishes an instant action straight to a vehicle and waits for the state that lists
it. The difference is what the commander costs. Last line: one JSON object.

    python bench/commands.py [--vehicles 1000] [--rate 100] [--duration 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from gmqtt import Client
from gmqtt.mqtt.constants import MQTTv311

from headway.bootstrap import build_embedded
from headway.config import Settings
from headway.contracts import vda5050
from headway.domain.commands import CommandKind, CommandParams, CommandStatus, StopVisit
from headway.entrypoints.demo import load_network
from headway.entrypoints.runtime import settle_heap
from headway.network.cch_router import CCHRouter
from headway.services.commands.service import CommandRequest
from headway.sim.fleet import SimConfig
from headway.sim.vehicle import serial_number

TARGET_P99_MS = 250.0
RAW_EVERY = 4
"""One raw round trip for every fourth command, interleaved: the same load for both."""
PROBED = 20
"""Vehicles kept for the raw round trips (the others get the commands)."""


class _ActionIds(msgspec.Struct, rename="camel"):
    action_id: str


class _StateActions(msgspec.Struct, rename="camel"):
    action_states: list[_ActionIds]


class RawRoundTrip:
    """Publishes instant actions with a bare client; times the state that lists each."""

    def __init__(self, port: int, manufacturer: str, serials: list[str]) -> None:
        self._port = port
        self._manufacturer = manufacturer
        self._serials = serials
        self._decoder = msgspec.json.Decoder(_StateActions)
        self._sent: dict[str, float] = {}
        self.delays_s: list[float] = []
        self._client = Client(f"bench-raw-{uuid.uuid4().hex[:6]}")
        self._client.on_message = self._on_message

    async def start(self) -> None:
        await self._client.connect("127.0.0.1", self._port, version=MQTTv311)
        # Only the probed vehicles' states: all of them would double the broker's load.
        for serial in self._serials:
            self._client.subscribe(vda5050.topic(self._manufacturer, serial, "state"), qos=0)
        await asyncio.sleep(0.5)

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
        self._sent[action_id] = time.monotonic()
        topic = vda5050.topic(self._manufacturer, serial, "instantActions")
        self._client.publish(topic, vda5050.encoder.encode(message), qos=1)

    def _on_message(self, client: Any, topic: str, payload: bytes, qos: int, props: Any) -> int:
        if not self._sent or b"raw-" not in payload:
            return 0
        now = time.monotonic()
        for state in self._decoder.decode(payload).action_states:
            sent = self._sent.pop(state.action_id, None)
            if sent is not None:
                self.delays_s.append(now - sent)
        return 0


async def run(
    vehicles: int, rate: float, duration_s: float, seed: int, tick_s: float = 0.05
) -> dict[str, Any]:
    network = load_network(seed)
    router = CCHRouter(network)
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="headway-bench-")))
    platform = build_embedded(settings, network)
    manufacturer = SimConfig().manufacturer
    serials = [serial_number(k) for k in range(vehicles)]
    for serial in serials:
        platform.registry.register(manufacturer, serial)
    probed, commanded = serials[:PROBED], serials[PROBED:]
    raw = RawRoundTrip(platform.mqtt_port, manufacturer, probed)
    await platform.start()
    # The fleet runs in a process of its own, as vehicles are machines of their own.
    fleet = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "headway.sim",
        f"--vehicles={vehicles}",
        f"--seed={seed}",
        f"--mqtt-port={platform.mqtt_port}",
        "--no-faults",
        f"--tick={tick_s}",
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
            step = (k // len(commanded)) % 3
            if step == 0:
                request = CommandRequest(
                    CommandKind.DRIVE, CommandParams(stops=(StopVisit(stops[serial]),))
                )
            else:
                request = CommandRequest(CommandKind.PAUSE if step == 1 else CommandKind.RESUME)
            command, _ = await platform.commands.submit(serial, request, "bench")
            ids.append(command.id)
            if k % RAW_EVERY == 0:
                # The baseline, under the same load: a bare round trip to another vehicle.
                raw.send(probed[(k // RAW_EVERY) % PROBED])
            due = t0 + (k + 1) / rate
            await asyncio.sleep(max(due - time.monotonic(), 0.0))
        elapsed = time.monotonic() - t0
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            records = [await platform.command_store.get(i) for i in ids]
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
        stats = platform.commander.stats
    finally:
        await raw.stop()
        if fleet.returncode is None:
            fleet.terminate()
            await fleet.wait()
        await platform.stop()

    every = np.array([v for values in latencies.values() for v in values])
    baseline = np.array(raw.delays_s) * 1000.0
    p99 = _pct(every, 99)
    return {
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
        "baseline": "raw MQTT instantActions publish -> state listing the action",
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(run(args.vehicles, args.rate, args.duration, args.seed))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
