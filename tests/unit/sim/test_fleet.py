"""The simulator against a real broker: what 20 shuttles publish in a scripted few seconds.

One scenario runs for the whole module (``recording.play``): faults of every kind are
injected early, two are cleared later, a late subscriber checks the retained messages,
and the fleet stops gracefully. Each test asserts one property of what was received.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import FormatChecker
from jsonschema.validators import validator_for

from headway.contracts.factsheet import factsheet_decoder
from headway.network.graph import RoadNetwork
from headway.sim.config import FaultRates, SimConfig, VehicleSpec

from .recording import Recording, play

SCHEMAS = Path(__file__).resolve().parents[3].parent / "shared/data/schemas/vda5050/2.1.0"
RANDOM_FAULTS = FaultRates(
    estop_per_hour=2.0,
    sensor_warning_per_hour=2.0,
    drive_fault_per_hour=0.5,
    radio_silence_per_hour=0.0,
    connection_lost_per_hour=0.0,
)
CONFIG = SimConfig(
    vehicles=20,
    speedup=120.0,
    seed=5,
    manufacturer="headway-test",
    state_interval_s=0.25,
    visualization_interval_s=0.2,
    fault_rates=RANDOM_FAULTS,
    # A small pack, some of it nearly empty, so charging shows within seconds.
    vehicle=VehicleSpec(battery_kwh=10.0, initial_charge_pct=(15.0, 45.0)),
)
_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@pytest.fixture(scope="module")
def recording(city: RoadNetwork) -> Recording:
    return asyncio.run(play(city, CONFIG))


def validators() -> dict[str, Any]:
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def is_datetime(value: object) -> bool:
        if not isinstance(value, str) or not _RFC3339.match(value):
            return False
        datetime.fromisoformat(value)
        return True

    out: dict[str, Any] = {}
    for name in ("connection", "state", "visualization", "factsheet"):
        schema = json.loads((SCHEMAS / f"{name}.schema").read_text())
        cls = validator_for(schema)
        cls.check_schema(schema)
        out[name] = cls(schema, format_checker=checker)
    return out


def states(recording: Recording, serial: str) -> list[dict[str, Any]]:
    return [m.body for m in recording.of(serial, "state")]


def test_every_message_validates_against_the_official_schemas(recording: Recording) -> None:
    checkers = validators()
    seen: Counter[str] = Counter()
    for message in [*recording.messages, *recording.retained]:
        errors = list(checkers[message.name].iter_errors(message.body))
        assert not errors, f"{message.name} of {message.serial}: {errors[0].message}"
        seen[message.name] += 1
        if message.name == "connection":
            seen[message.body["connectionState"]] += 1
    for kind in ("state", "visualization", "factsheet", "ONLINE", "CONNECTIONBROKEN", "OFFLINE"):
        assert seen[kind] > 0, kind


def test_what_the_broker_delivered_matches_the_counters(recording: Recording) -> None:
    stats = recording.stats
    assert stats is not None
    received = Counter(m.name for m in recording.messages)
    for name in ("state", "visualization", "factsheet"):
        assert received[name] == stats.published[name]
    assert stats.tick_errors == 0
    assert stats.connects == 22
    assert stats.reconnects == 2


def test_header_ids_count_up_per_topic_and_vehicle(recording: Recording) -> None:
    for serial in [f"v{k:04d}" for k in range(1, 21)]:
        for name in ("state", "visualization"):
            ids = [m.body["headerId"] for m in recording.of(serial, name)]
            assert ids == list(range(len(ids))), (serial, name)
        connection = [m.body["headerId"] for m in recording.of(serial, "connection")]
        assert connection == sorted(set(connection))


def test_lost_connection_sends_the_last_will_then_comes_back_online(
    recording: Recording,
) -> None:
    for serial in ("v0005", "v0006"):
        sequence = [m.body["connectionState"] for m in recording.of(serial, "connection")]
        assert sequence == ["ONLINE", "CONNECTIONBROKEN", "ONLINE", "OFFLINE"], serial
        broken = next(
            m.at
            for m in recording.of(serial, "connection")
            if m.body["connectionState"] == "CONNECTIONBROKEN"
        )
        assert broken - recording.marks["injected"] < 1.0
        # Nothing is published while the link is down (120 s at 120x: one wall second).
        gap = [m.at for m in recording.of(serial, "state") if m.at > broken]
        assert gap
        assert gap[0] - broken >= 0.5
    assert [m.body["connectionState"] for m in recording.of("v0001", "connection")] == [
        "ONLINE",
        "OFFLINE",
    ]


def test_radio_silence_stops_state_messages_for_its_duration(recording: Recording) -> None:
    def longest_gap(serial: str) -> float:
        times = [m.at for m in recording.of(serial, "state")]
        return max(b - a for a, b in itertools.pairwise(times))

    assert 1.7 < longest_gap("v0004") < 2.8
    for serial in ("v0001", "v0002", "v0003", "v0010", "v0020"):
        assert longest_gap(serial) < 1.0, serial
    assert [m.body["connectionState"] for m in recording.of("v0004", "connection")] == [
        "ONLINE",
        "OFFLINE",
    ]


def test_estop_shows_in_state_and_holds_the_vehicle(recording: Recording) -> None:
    stopped = [s for s in states(recording, "v0001") if s["safetyState"]["eStop"] != "NONE"]
    assert stopped
    assert {s["safetyState"]["eStop"] for s in stopped} <= {"AUTOACK", "REMOTE"}
    assert not any(s["driving"] for s in stopped)
    assert len({(s["agvPosition"]["x"], s["agvPosition"]["y"]) for s in stopped}) == 1
    assert states(recording, "v0001")[-1]["safetyState"]["eStop"] == "NONE"


def test_sensor_warning_and_drive_fault_show_as_errors_until_cleared(
    recording: Recording,
) -> None:
    cleared = recording.marks["cleared"]
    for serial, error_type, level in (
        ("v0002", "lidarDegraded", "WARNING"),
        ("v0003", "driveFault", "FATAL"),
    ):
        messages = recording.of(serial, "state")
        before = [m.body for m in messages if recording.marks["injected"] + 0.1 < m.at < cleared]
        after = [m.body for m in messages if m.at > cleared + 0.1]
        assert before
        assert after
        for body in before:
            assert any(
                (e["errorType"], e["errorLevel"]) == (error_type, level) for e in body["errors"]
            )
        assert all(e["errorType"] != error_type for body in after for e in body["errors"])
        if level == "FATAL":
            assert not any(body["driving"] for body in before)


def test_charging_shows_and_the_battery_rises(recording: Recording) -> None:
    risen = 0
    for serial in [f"v{k:04d}" for k in range(1, 21)]:
        charges = [
            s["batteryState"]["batteryCharge"]
            for s in states(recording, serial)
            if s["batteryState"]["charging"]
        ]
        if len(charges) >= 2:
            assert charges == sorted(charges)
            risen += charges[-1] > charges[0]
    assert risen > 0


def test_positions_lie_on_the_roads_in_the_map_frame(
    recording: Recording, city: RoadNetwork
) -> None:
    for message in recording.messages:
        if message.name not in ("state", "visualization"):
            continue
        position = message.body["agvPosition"]
        assert position["mapId"] == "test-grid"
        assert position["positionInitialized"] is True
        assert city.snap(position["x"], position["y"]).distance_m < 0.5
        velocity = message.body["velocity"]
        speed = (velocity["vx"] ** 2 + velocity["vy"] ** 2) ** 0.5
        assert speed <= 13.9 + 0.01


def test_passengers_are_loads_on_seats(recording: Recording) -> None:
    riders = 0
    for message in recording.messages:
        if message.name != "state":
            continue
        loads = message.body["loads"]
        positions = [load["loadPosition"] for load in loads]
        assert len(set(positions)) == len(positions) <= 8
        assert all(load["loadType"] == "passenger" for load in loads)
        assert set(positions) <= {f"seat{k}" for k in range(1, 9)}
        riders += len(loads)
    assert riders > 0


def test_late_subscribers_get_each_vehicles_connection_and_factsheet(
    recording: Recording,
) -> None:
    retained = [m for m in recording.retained if m.retain]
    online = {m.serial for m in retained if m.name == "connection"}
    factsheets = {m.serial: m.body for m in retained if m.name == "factsheet"}
    assert online == set(factsheets) == {f"v{k:04d}" for k in range(1, 21)}
    assert {m.body["connectionState"] for m in retained if m.name == "connection"} == {"ONLINE"}
    decoded = factsheet_decoder.decode(json.dumps(factsheets["v0007"]))
    assert decoded.serial_number == "v0007"
    spec = factsheets["v0007"]["loadSpecification"]
    assert spec["loadPositions"] == [f"seat{k}" for k in range(1, 9)]
    assert spec["loadSets"][0]["loadType"] == "passenger"


def test_route_targets_are_reported(recording: Recording) -> None:
    targets = [
        info
        for message in recording.messages
        if message.name == "state"
        for info in message.body["information"]
        if info["infoType"] == "routeTarget"
    ]
    assert targets
    assert {ref["referenceKey"] for info in targets for ref in info["infoReferences"]} <= {
        "stopId",
        "chargerId",
    }
