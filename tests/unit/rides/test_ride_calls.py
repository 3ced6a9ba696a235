"""The dispatcher's ingress checks each passenger call before acting on it: what is
refused, with which reason, and whether the caller can still be told."""

from __future__ import annotations

import json

import pytest

from headway.services.rides.calls import BadRideCall, RideCall, decode_call, encode_call

PREFIX = "hw:rides:reply:"


def call(**changes: object) -> bytes:
    fields: dict[str, object] = dict(
        id="c1",
        op="request",
        passenger="ann",
        ride_id="r1",
        reply_to=PREFIX + "c1",
        deadline=1_800_000_000.0,
        origin=[49.4, 8.7],
        destination=[49.41, 8.71],
        seats=1,
    )
    fields.update(changes)
    return json.dumps({k: v for k, v in fields.items() if v is not None}).encode()


def refused(data: bytes) -> BadRideCall:
    with pytest.raises(BadRideCall) as caught:
        decode_call(data, PREFIX)
    return caught.value


def test_a_good_call_round_trips() -> None:
    decoded = decode_call(call(), PREFIX)
    assert decoded.origin == (49.4, 8.7)
    assert decode_call(encode_call(decoded), PREFIX) == decoded
    accept = decode_call(call(op="accept", origin=None, destination=None), PREFIX)
    assert accept == RideCall("c1", "accept", "ann", "r1", PREFIX + "c1", 1_800_000_000.0)


@pytest.mark.parametrize(
    ("data", "reason", "told"),
    [
        (b"\x00\x01", "undecodable", False),
        (b"[1, 2]", "invalid", False),
        (call(op="teleport"), "invalid", True),
        (call(seats="two"), "invalid", True),
        (call(extra=1), "invalid", True),
        (call(passenger=""), "invalid", True),
        (call(origin=[91.0, 8.7]), "invalid", True),
        (call(destination=None), "invalid", True),
        (call(reply_to="other:key"), "bad_reply_to", False),
        (call(reply_to=PREFIX + "x" * 500), "bad_reply_to", False),
        (call(passenger="x" * 5000), "too_large", False),
    ],
)
def test_bad_calls_are_refused_with_a_reason(data: bytes, reason: str, told: bool) -> None:
    error = refused(data)
    assert error.reason == reason
    assert bool(error.reply_to) is told
    if told:
        assert error.reply_to.startswith(PREFIX)
