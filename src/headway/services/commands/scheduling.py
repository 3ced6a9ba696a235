"""When may a command be sent, when is it retried, when does it expire: pure rules.

``plan_vehicle`` looks at one vehicle's commands that have not ended (in ``seq`` order)
and says what to do with each of those this commander holds. The rules:

* Trip lane (drive, update, hold, return to depot, charge): a command waits until every
  earlier command of the vehicle, in either lane, has been acknowledged or has ended. A
  new order also waits until every earlier trip command and cancel has ended: VDA 5050
  vehicles refuse a new order while they still execute one.
* Control lane (pause, resume, cancel): waits only for earlier control commands to be
  acknowledged. A cancel also waits for earlier trip commands that were sent to be
  acknowledged or to end (so the vehicle's picture is known), and supersedes the earlier
  orders that were never sent: they end as cancelled.
* A command not acknowledged by ``expires_at`` expires. One that was never sent expires
  then; one that was sent gets ``ack_grace_s`` more for its acknowledgement to arrive,
  but is not sent again.
* Retries back off exponentially with jitter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

from headway.domain.commands import (
    UNACKNOWLEDGED,
    Command,
    CommandKind,
    CommandStatus,
    Lane,
)


@dataclass(frozen=True)
class RetryPolicy:
    ack_timeout_s: float = 1.5
    """First wait for an acknowledgement before sending again."""
    factor: float = 2.0
    max_delay_s: float = 10.0
    jitter: float = 0.5
    """Each delay is drawn from [(1 - jitter) x d, d]."""
    ack_grace_s: float = 5.0
    """After expiry, how long an acknowledgement of a sent command is still awaited."""

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Wait after the ``attempts``-th send before the next one."""
        base = min(self.ack_timeout_s * self.factor ** max(attempts - 1, 0), self.max_delay_s)
        return base * (1.0 - self.jitter * rng.random())


class Do(Enum):
    SEND = "send"
    EXPIRE = "expire"
    SUPERSEDE = "supersede"


@dataclass(frozen=True, slots=True)
class Step:
    do: Do
    command: Command
    note: str = ""


@dataclass(frozen=True, slots=True)
class VehiclePlan:
    steps: tuple[Step, ...]
    wake_at: float | None
    """When to look at this vehicle again if nothing else happens (retry or expiry)."""
    waiting: dict[str, str]
    """Command id to what it waits for, for the ones held back."""


def plan_vehicle(
    commands: list[Command],
    now: float,
    held: set[str] | frozenset[str],
    may_send: bool,
    policy: RetryPolicy,
) -> VehiclePlan:
    """What to do now with the held ones among ``commands`` (one vehicle's, not ended).

    ``may_send`` is False while the vehicle's circuit breaker is open.
    """
    steps: list[Step] = []
    waiting: dict[str, str] = {}
    wake: list[float] = []
    superseded: set[str] = set()
    for command in commands:
        if command.kind is CommandKind.CANCEL and command.status in UNACKNOWLEDGED:
            for earlier in commands:
                if (
                    earlier.seq < command.seq
                    and earlier.is_order
                    and earlier.status is CommandStatus.ACCEPTED
                    and earlier.id not in superseded
                ):
                    superseded.add(earlier.id)
                    if earlier.id in held:
                        steps.append(Step(Do.SUPERSEDE, earlier, f"superseded by {command.id}"))
    for command in commands:
        if command.id not in held or command.id in superseded:
            continue
        if command.status not in UNACKNOWLEDGED:
            continue
        deadline = command.expires_at
        if command.status is CommandStatus.SENT:
            deadline += policy.ack_grace_s
        if now >= deadline:
            steps.append(Step(Do.EXPIRE, command, _expiry_note(command)))
            continue
        wake.append(deadline)
        if now >= command.expires_at:
            waiting[command.id] = "expired: awaiting a late acknowledgement"
            continue
        blocker = _blocker(command, commands, superseded)
        if blocker is not None:
            waiting[command.id] = blocker
            continue
        if command.status is CommandStatus.SENT and now < command.next_attempt_at:
            wake.append(command.next_attempt_at)
            continue
        if not may_send:
            waiting[command.id] = "circuit breaker open"
            continue
        steps.append(Step(Do.SEND, command))
    return VehiclePlan(tuple(steps), min(wake) if wake else None, waiting)


def _blocker(command: Command, commands: list[Command], superseded: set[str]) -> str | None:
    for earlier in commands:
        if earlier.seq >= command.seq or earlier.id in superseded:
            continue
        unacked = earlier.status in UNACKNOWLEDGED
        if command.lane is Lane.TRIP:
            if unacked:
                return f"waits for {earlier.id} ({earlier.kind}) to be acknowledged"
            if command.new_order and (
                earlier.lane is Lane.TRIP or earlier.kind is CommandKind.CANCEL
            ):
                return f"waits for {earlier.id} ({earlier.kind}) to end"
        else:
            if unacked and earlier.lane is Lane.CONTROL:
                return f"waits for {earlier.id} ({earlier.kind}) to be acknowledged"
            if (
                command.kind is CommandKind.CANCEL
                and earlier.lane is Lane.TRIP
                and earlier.status is CommandStatus.SENT
            ):
                return f"waits for {earlier.id} ({earlier.kind}) to be acknowledged"
    return None


def _expiry_note(command: Command) -> str:
    if command.status is CommandStatus.ACCEPTED:
        return "expired before it could be sent"
    return f"not acknowledged after {command.attempts} attempt(s)"
