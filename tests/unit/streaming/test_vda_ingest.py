"""Edge validation: good VDA 5050 messages become events; bad ones are refused with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from headway.contracts import vda5050
from headway.contracts.events import Capability, ConnectionChanged, Telemetry
from headway.domain.errors import InvalidMessage
from headway.streaming.vda_ingest import decode_vehicle_message

NOW = 1_800_000_000.0
TOPIC = "uagv/v2/acme/v7/state"


def known(manufacturer: str, serial: str) -> bool:
    return (manufacturer, serial) == ("acme", "v7")


def state(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "headerId": 1,
        "timestamp": vda5050.format_timestamp(NOW - 0.2),
        "version": "2.1.0",
        "manufacturer": "acme",
        "serialNumber": "v7",
        "orderId": "",
        "orderUpdateId": 0,
        "lastNodeId": "n1",
        "lastNodeSequenceId": 0,
        "driving": True,
        "operatingMode": "AUTOMATIC",
        "nodeStates": [],
        "edgeStates": [],
        "actionStates": [],
        "batteryState": {"batteryCharge": 64.5, "charging": False},
        "errors": [{"errorType": "lidarDegraded", "errorLevel": "WARNING"}],
        "safetyState": {"eStop": "NONE", "fieldViolation": False},
        "agvPosition": {
            "x": 10.0,
            "y": -5.0,
            "theta": 1.5,
            "mapId": "city",
            "positionInitialized": True,
        },
        "velocity": {"vx": 3.0, "vy": 4.0},
        "loads": [
            {"loadId": "p1", "loadType": "passenger", "loadPosition": "seat1"},
            {"loadId": "p2", "loadType": "passenger", "loadPosition": "seat2"},
        ],
    }
    body.update(overrides)
    return body


def decode(body: object, topic: str = TOPIC) -> object:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    return decode_vehicle_message(topic, payload, NOW, known)


def test_state_becomes_full_telemetry() -> None:
    event = decode(state())
    assert isinstance(event, Telemetry)
    assert (event.vehicle_id, event.x, event.y, event.battery_pct) == ("v7", 10.0, -5.0, 64.5)
    assert event.speed_mps == pytest.approx(5.0)
    assert event.occupancy == 2
    assert event.errors == ("WARNING:lidarDegraded",)
    assert not event.fatal
    assert event.full
    assert event.ts == pytest.approx(NOW - 0.2, abs=1e-3)


def test_visualization_connection_and_factsheet() -> None:
    vis = decode(
        {
            "headerId": 3,
            "timestamp": vda5050.format_timestamp(NOW),
            "version": "2.1.0",
            "manufacturer": "acme",
            "serialNumber": "v7",
            "agvPosition": {
                "x": 1,
                "y": 2,
                "theta": 0,
                "mapId": "city",
                "positionInitialized": True,
            },
        },
        "uagv/v2/acme/v7/visualization",
    )
    assert isinstance(vis, Telemetry)
    assert not vis.full
    conn = decode(
        {
            "headerId": 1,
            "timestamp": vda5050.format_timestamp(NOW),
            "version": "2.1.0",
            "manufacturer": "acme",
            "serialNumber": "v7",
            "connectionState": "CONNECTIONBROKEN",
        },
        "uagv/v2/acme/v7/connection",
    )
    assert isinstance(conn, ConnectionChanged)
    assert conn.state == "CONNECTIONBROKEN"
    facts = decode(
        {
            "manufacturer": "acme",
            "serialNumber": "v7",
            "version": "2.1.0",
            "loadSpecification": {"loadPositions": ["seat1", "seat2", "seat3"]},
        },
        "uagv/v2/acme/v7/factsheet",
    )
    assert isinstance(facts, Capability)
    assert facts.capacity == 3


@pytest.mark.parametrize(
    ("body", "topic", "reason"),
    [
        (b'{"headerId": 1, "timestamp": ', TOPIC, "malformed_json"),
        (b"\xff\xfe not json", TOPIC, "malformed_json"),
        (b"[]", TOPIC, "schema"),
        (state(batteryState={"batteryCharge": "full", "charging": False}), TOPIC, "schema"),
        (state(batteryState={"batteryCharge": 140, "charging": False}), TOPIC, "schema"),
        (state(driving="yes"), TOPIC, "schema"),
        (state(operatingMode="TURBO"), TOPIC, "schema"),
        ({k: v for k, v in state().items() if k != "safetyState"}, TOPIC, "schema"),
        (
            state(
                agvPosition={
                    "x": 1,
                    "y": 2,
                    "theta": 0,
                    "mapId": "city",
                    "positionInitialized": False,
                }
            ),
            TOPIC,
            "no_position",
        ),
        (state(serialNumber="v8"), TOPIC, "serial_mismatch"),
        (state(timestamp="yesterday"), TOPIC, "bad_timestamp"),
        (state(timestamp=vda5050.format_timestamp(NOW + 3600)), TOPIC, "clock_ahead"),
        (state(), "uagv/v2/acme/v9/state", "unknown_vehicle"),
        (state(), "uagv/v2/other/v7/state", "unknown_vehicle"),
        (state(), "vehicles/v7/state", "bad_topic"),
        (state(), "uagv/v2/acme/v7/selfie", "bad_topic"),
        (state(information=[{"infoType": "x", "infoLevel": "LOUD"}]), TOPIC, "schema"),
    ],
)
def test_bad_input_is_refused_with_a_reason(body: object, topic: str, reason: str) -> None:
    with pytest.raises(InvalidMessage) as refused:
        decode(body, topic)
    assert refused.value.reason == reason


def test_oversized_payload_is_refused_before_parsing() -> None:
    body = json.dumps(state(information=[{"infoType": "pad" * 30000, "infoLevel": "INFO"}]))
    with pytest.raises(InvalidMessage) as refused:
        decode(body.encode())
    assert refused.value.reason == "oversized"


def test_non_finite_position_is_refused() -> None:
    payload = json.dumps(state()).replace('"x": 10.0', '"x": 1e999').encode()
    with pytest.raises(InvalidMessage) as refused:
        decode(payload)
    assert refused.value.reason in {"schema", "malformed_json"}
