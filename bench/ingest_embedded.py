"""Ingest throughput and latency of the embedded profile, against the bare MQTT transport.

For each fleet size (vehicles reporting ``state`` at 1 Hz), runs the headless demo:
simulated fleet -> embedded broker -> bridge -> event log -> processor -> live state,
then reads every vehicle back through the API. The baseline, measured in the same run
with the same fleet, is the bare transport: the same broker and vehicles with a
subscriber that only reads each message's timestamp. The difference is what Headway's
pipeline costs. Last line: one JSON object.

    python bench/ingest_embedded.py [--duration 30] [--sizes 1000,2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import numpy as np

from headway.adapters.amqtt_broker import AmqttEmbeddedBroker
from headway.adapters.gmqtt_link import GmqttSubscriber
from headway.config import Settings
from headway.contracts import vda5050
from headway.entrypoints.demo import (
    WARMUP_AFTER_FLEET_UP_S,
    DemoOptions,
    load_network,
    run_headless,
)
from headway.sim.fleet import FleetSimulator, SimConfig


class _Stamp(msgspec.Struct):
    timestamp: str


async def bare_transport(vehicles: int, duration_s: float, seed: int) -> dict[str, object]:
    network = load_network(seed)
    broker = AmqttEmbeddedBroker()
    await broker.start()
    decoder = msgspec.json.Decoder(_Stamp)
    delays: list[float] = []

    def on_message(topic: str, payload: bytes) -> None:
        delays.append(time.time() - vda5050.parse_timestamp(decoder.decode(payload).timestamp))

    subscriber = GmqttSubscriber(broker.host, broker.port, [("uagv/v2/+/+/state", 0)], on_message)
    await subscriber.start()
    sim = FleetSimulator(
        network,
        SimConfig(
            vehicles=vehicles, speedup=5.0, seed=seed, mqtt_host=broker.host, mqtt_port=broker.port
        ),
    )
    await sim.start()
    await asyncio.sleep(WARMUP_AFTER_FLEET_UP_S + 1.0)  # the same warm-up as the pipeline
    delays.clear()
    cpu0, t0 = _cpu(), time.monotonic()
    await asyncio.sleep(duration_s)
    elapsed, cpu = time.monotonic() - t0, _cpu() - cpu0
    count = len(delays)
    ms = np.array(delays) * 1000.0
    await sim.stop()
    await subscriber.stop()
    await broker.stop()
    return {
        "vehicles": vehicles,
        "events_per_s": round(count / elapsed, 1),
        "p50_publish_to_receive_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_publish_to_receive_ms": round(float(np.percentile(ms, 99)), 2),
        "cpu_core_share": round(cpu / elapsed, 3),
    }


async def pipeline(
    vehicles: int, duration_s: float, seed: int, data_dir: Path
) -> dict[str, object]:
    settings = Settings(data_dir=data_dir / f"run-{vehicles}")
    options = DemoOptions(
        vehicles=vehicles, speedup=5.0, seed=seed, headless=True, duration_s=duration_s
    )
    return await run_headless(options, settings)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--sizes", default="1000,2000")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    runs, baselines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            baseline = asyncio.run(bare_transport(size, args.duration, args.seed))
            print(f"baseline {json.dumps(baseline)}", file=sys.stderr)
            baselines.append(baseline)
            run = asyncio.run(pipeline(size, args.duration, args.seed, Path(tmp)))
            print(f"pipeline {json.dumps(run)}", file=sys.stderr)
            runs.append(run)
    summary = [
        {
            "vehicles": run["vehicles"],
            "events_per_s": run["events_per_s"],
            "baseline_events_per_s": base["events_per_s"],
            "p50_ingest_to_visible_ms": run["p50_ingest_to_visible_ms"],
            "p99_ingest_to_visible_ms": run["p99_ingest_to_visible_ms"],
            "baseline_p99_publish_to_receive_ms": base["p99_publish_to_receive_ms"],
            "visible_vehicles": run["visible_vehicles"],
            "dead_letters": run["dead_letters"],
            "cpu_core_share": run["cpu_core_share"],
            "baseline_cpu_core_share": base["cpu_core_share"],
        }
        for run, base in zip(runs, baselines, strict=True)
    ]
    print(json.dumps({"bench": "ingest_embedded", "duration_s": args.duration, "results": summary}))


if __name__ == "__main__":
    main()
