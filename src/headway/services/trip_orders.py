"""A trip as VDA 5050 orders: where it is released, and the commands that drive it.

A trip goes to its vehicle as one ``drive`` command whose stops are the trip's stops,
but only up to its first *release point* is released (the base); the rest is the
horizon. The vehicle stops at the release point, does its stop's actions and waits.
When the fixed-route service sees it standing there, it decides whether to hold it
(a ``hold`` command, which starts at once because the vehicle stands) and then sends an
``update`` releasing the stops up to the next release point. So a hold always applies
at the control stop it was decided for, and a vehicle early at its first stop leaves
at its scheduled time: the first stop is only released when the trip is due.

Release points are a trip's first stop and its control stops (never its last); where
they are far apart, one is added every ``MAX_RELEASE_GAP`` stops, so that no command
lists more stops than the command service accepts.

Idempotency keys are made of the service day, the trip and the release point, so a
service that restarts and decides again sends nothing twice. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from headway.domain.commands import CommandKind, CommandParams, StopVisit
from headway.domain.transit import Trip
from headway.services.commands.service import MAX_STOPS, CommandRequest

MAX_RELEASE_GAP = 30
"""At most this many stops are released by one command."""
FIRST_STOP = ("doorOpen", "pick", "doorClose")
LAST_STOP = ("doorOpen", "drop", "doorClose")
STOP = ("doorOpen", "drop", "pick", "doorClose")


def release_points(trip: Trip, control_stops: Collection[str] | None) -> tuple[int, ...]:
    """Indices of the stops where the vehicle waits to be released: the first stop, the
    control stops (``None``: every stop), never the last; at most ``MAX_RELEASE_GAP``
    apart."""
    last = len(trip.stop_ids) - 1
    points = [0]
    for index in range(1, last):
        control = control_stops is None or trip.stop_ids[index] in control_stops
        if control or index - points[-1] >= MAX_RELEASE_GAP:
            points.append(index)
    return tuple(points)


def next_point(points: tuple[int, ...], after: int, last: int) -> int:
    """The release point after index ``after``, or the trip's last stop."""
    return next((p for p in points if p > after), last)


def visits(trip: Trip, first: int, upto: int) -> tuple[StopVisit, ...]:
    """The trip's stops ``first..upto`` with their actions."""
    last = len(trip.stop_ids) - 1
    out = []
    for index in range(first, upto + 1):
        actions = FIRST_STOP if index == 0 else LAST_STOP if index == last else STOP
        out.append(StopVisit(trip.stop_ids[index], actions))
    return tuple(out)


def _released(trip: Trip, first: int, upto: int) -> tuple[tuple[StopVisit, ...], int]:
    """The stops from ``first`` released up to ``upto``, then as many of the rest as
    fit in one command as the horizon; and the horizon's length."""
    last = len(trip.stop_ids) - 1
    released = visits(trip, first, upto)
    room = MAX_STOPS - len(released)
    horizon = visits(trip, upto + 1, min(last, upto + room)) if upto < last else ()
    return released + horizon, len(horizon)


def drive_request(trip: Trip, points: tuple[int, ...], ttl_s: float) -> CommandRequest:
    """The trip's order: released up to its first release point (its first stop)."""
    stops, horizon = _released(trip, 0, points[0] if points else len(trip.stop_ids) - 1)
    return CommandRequest(
        CommandKind.DRIVE, CommandParams(stops=stops, horizon=horizon), ttl_s=ttl_s
    )


def release_request(
    trip: Trip, points: tuple[int, ...], at: int, order_command_id: str, ttl_s: float
) -> CommandRequest:
    """The update that releases the stops after release point ``at`` up to the next."""
    upto = next_point(points, at, len(trip.stop_ids) - 1)
    stops, horizon = _released(trip, at + 1, upto)
    return CommandRequest(
        CommandKind.UPDATE,
        CommandParams(stops=stops, horizon=horizon, order_command_id=order_command_id),
        ttl_s=ttl_s,
    )


def drive_key(day: dt.date | None, trip: Trip) -> str:
    return f"trip:{day}:{trip.id}"


def release_key(day: dt.date | None, trip: Trip, at: int) -> str:
    return f"release:{day}:{trip.id}:{at}"
