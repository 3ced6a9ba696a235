"""Passenger calls carried to the dispatcher process, and its replies: the wire format,
its checks, and how a call is answered by a ``RideDesk``.

A call names the ride it is about (a request names the ride it creates, so asking again
after a lost reply finds the stored ride instead of planning a second one), who asks,
where the reply goes and until when the caller waits (``deadline``, wall clock): a call
read after its deadline is dropped unanswered, since its caller has already been told
the dispatcher is unavailable. Anything that does not decode or check is refused with
the reason, never raised into the loop that reads the calls.
"""

from __future__ import annotations

import math
from typing import Literal

import msgspec

from headway.domain.rides import Ride, RideError
from headway.services.ports import RideDesk
from headway.services.rides.errors import BadRideRequest, RideConflict, RideNotFound

Op = Literal["request", "accept", "decline", "cancel"]
OPS: tuple[Op, ...] = ("request", "accept", "decline", "cancel")
MAX_CALL_BYTES = 4096
MAX_TEXT = 200


class RideCall(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    op: Op
    passenger: str
    ride_id: str
    reply_to: str
    deadline: float
    origin: tuple[float, float] | None = None
    destination: tuple[float, float] | None = None
    seats: int = 1
    earliest_pickup: float | None = None


ErrorKind = Literal["", "not_found", "conflict", "bad_request", "bad_call"]


class RideReply(msgspec.Struct, frozen=True):
    ride: Ride | None = None
    error: ErrorKind = ""
    message: str = ""


class BadRideCall(Exception):
    """A call that cannot be carried out as sent; ``reason`` is for metrics, the message
    for the log."""

    def __init__(self, reason: str, detail: str, reply_to: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.reply_to = reply_to


_call_decoder = msgspec.json.Decoder(RideCall)
_reply_decoder = msgspec.json.Decoder(RideReply)
_encoder = msgspec.json.Encoder()


def encode_call(call: RideCall) -> bytes:
    return _encoder.encode(call)


def encode_reply(reply: RideReply) -> bytes:
    return _encoder.encode(reply)


def decode_reply(data: bytes) -> RideReply:
    return _reply_decoder.decode(data)


def decode_call(data: bytes, reply_prefix: str) -> RideCall:
    """The call in ``data``, checked; BadRideCall with the reason otherwise.
    ``reply_prefix`` is the only place a reply may go, so a call cannot have the
    dispatcher write to any other key."""
    if len(data) > MAX_CALL_BYTES:
        raise BadRideCall("too_large", f"{len(data)} bytes, at most {MAX_CALL_BYTES}")
    try:
        call = _call_decoder.decode(data)
    except msgspec.DecodeError as exc:
        reason = "invalid" if _is_json(data) else "undecodable"
        raise BadRideCall(reason, str(exc), _reply_to(data, reply_prefix)) from None
    reply_to = call.reply_to if call.reply_to.startswith(reply_prefix) else ""
    if not reply_to or len(call.reply_to) > len(reply_prefix) + MAX_TEXT:
        raise BadRideCall("bad_reply_to", f"replies go under {reply_prefix!r}")
    for name in ("id", "passenger", "ride_id"):
        text = getattr(call, name)
        if not text or len(text) > MAX_TEXT:
            raise BadRideCall("invalid", f"{name} must be 1 to {MAX_TEXT} characters", reply_to)
    if not math.isfinite(call.deadline):
        raise BadRideCall("invalid", "deadline must be a finite time", reply_to)
    if call.op == "request":
        for name, point in (("origin", call.origin), ("destination", call.destination)):
            if point is None or not (
                math.isfinite(point[0])
                and math.isfinite(point[1])
                and -90.0 <= point[0] <= 90.0
                and -180.0 <= point[1] <= 180.0
            ):
                raise BadRideCall("invalid", f"{name} must be a [lat, lon] on Earth", reply_to)
        if call.earliest_pickup is not None and not math.isfinite(call.earliest_pickup):
            raise BadRideCall("invalid", "earliest_pickup must be a finite time", reply_to)
    return call


async def answer(desk: RideDesk, call: RideCall) -> RideReply:
    """Carry out ``call`` on ``desk``; the ride service's refusals become error replies
    (the caller raises them again), anything else propagates."""
    if call.op == "request" and (call.origin is None or call.destination is None):
        return RideReply(error="bad_call", message="a request needs origin and destination")
    try:
        if call.op == "request" and call.origin is not None and call.destination is not None:
            ride = await desk.request(
                call.passenger,
                call.origin,
                call.destination,
                call.seats,
                call.earliest_pickup,
                ride_id=call.ride_id,
            )
        elif call.op == "accept":
            ride = await desk.accept(call.passenger, call.ride_id)
        elif call.op == "decline":
            ride = await desk.decline(call.passenger, call.ride_id)
        else:
            ride = await desk.cancel(call.passenger, call.ride_id)
    except RideNotFound as exc:
        return RideReply(error="not_found", message=str(exc))
    except RideConflict as exc:
        return RideReply(error="conflict", message=str(exc))
    except BadRideRequest as exc:
        return RideReply(error="bad_request", message=str(exc))
    return RideReply(ride=await desk.current(ride))


def raise_for(reply: RideReply, ride_id: str) -> Ride:
    """The reply's ride, or the ride service's error it carries, raised again."""
    if reply.error == "not_found":
        raise RideNotFound(ride_id)
    if reply.error == "conflict":
        raise RideConflict(reply.message)
    if reply.error in ("bad_request", "bad_call"):
        raise BadRideRequest(reply.message)
    if reply.ride is None:
        raise RideError(f"the dispatcher answered no ride for {ride_id}")
    return reply.ride


def _is_json(data: bytes) -> bool:
    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError:
        return False
    return True


def _reply_to(data: bytes, reply_prefix: str) -> str:
    """Where a call that failed its checks wants its reply, if it says so readably."""
    try:
        fields = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return ""
    if isinstance(fields, dict):
        reply_to = fields.get("reply_to")
        if isinstance(reply_to, str) and reply_to.startswith(reply_prefix):
            return reply_to if len(reply_to) <= len(reply_prefix) + MAX_TEXT else ""
    return ""
