"""The edge hands the commander what it reads from a state (``Telemetry.progress``)."""

from __future__ import annotations

import json
import time
from typing import Any

from headway.contracts.events import Telemetry
from headway.contracts.vda5050 import timestamp_now
from headway.streaming.vda_ingest import decode_vehicle_message

TOPIC = "uagv/v2/acme/v7/state"


def state(**fields: Any) -> bytes:
    body = {
        "headerId": 1,
        "timestamp": timestamp_now(),
        "version": "2.1.0",
        "manufacturer": "acme",
        "serialNumber": "v7",
        "orderId": "",
        "orderUpdateId": 0,
        "lastNodeId": "n1",
        "lastNodeSequenceId": 0,
        "driving": False,
        "operatingMode": "AUTOMATIC",
        "nodeStates": [],
        "edgeStates": [],
        "actionStates": [],
        "batteryState": {"batteryCharge": 80.0, "charging": False},
        "errors": [],
        "safetyState": {"eStop": "NONE", "fieldViolation": False},
        "agvPosition": {
            "x": 1.0,
            "y": 2.0,
            "theta": 0.0,
            "mapId": "m",
            "positionInitialized": True,
        },
    }
    body.update(fields)
    return json.dumps(body).encode()


def decode(payload: bytes) -> Telemetry:
    event = decode_vehicle_message(TOPIC, payload, time.time(), lambda m, s: True)
    assert isinstance(event, Telemetry)
    return event


def test_a_vehicle_with_nothing_to_report_carries_no_progress() -> None:
    assert decode(state()).progress is None


def test_order_progress_actions_and_refusals_reach_the_commander() -> None:
    event = decode(
        state(
            orderId="c1",
            orderUpdateId=2,
            lastNodeSequenceId=4,
            paused=True,
            nodeStates=[
                {"nodeId": "n8", "sequenceId": 6, "released": True},
                {"nodeId": "n9", "sequenceId": 8, "released": False},
            ],
            actionStates=[
                {
                    "actionId": "c1.11.pick",
                    "actionStatus": "FINISHED",
                    "resultDescription": "2 boarded",
                },
                {"actionId": "c9", "actionStatus": "RUNNING"},
            ],
            errors=[
                {"errorType": "lidarDegraded", "errorLevel": "WARNING"},
                {
                    "errorType": "orderUpdateError",
                    "errorLevel": "WARNING",
                    "errorDescription": "lower orderUpdateId",
                    "errorReferences": [
                        {"referenceKey": "orderId", "referenceValue": "c1"},
                        {"referenceKey": "orderUpdateId", "referenceValue": "1"},
                    ],
                },
            ],
        )
    )
    progress = event.progress
    assert progress is not None
    assert event.order_id == "c1"
    assert (progress.order_update_id, progress.last_node_sequence_id) == (2, 4)
    assert progress.next_node_sequence_id == 6
    assert progress.horizon
    assert progress.paused
    assert [(a.action_id, a.status, a.result) for a in progress.actions] == [
        ("c1.11.pick", "FINISHED", "2 boarded"),
        ("c9", "RUNNING", ""),
    ]
    (refusal,) = progress.errors
    assert refusal.error_type == "orderUpdateError"
    assert dict(refusal.references) == {"orderId": "c1", "orderUpdateId": "1"}
    assert event.errors == ("WARNING:lidarDegraded", "WARNING:orderUpdateError")
