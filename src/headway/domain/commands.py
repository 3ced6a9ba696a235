"""Commands to vehicles: what operators and the dispatcher ask of a vehicle, and the life
of each request until it has ended one way or another.

A command is a durable record. Its status only moves forward along

    accepted → sent → acknowledged → running → done
                   ↘ rejected        ↘ failed | cancelled
    accepted | sent → expired        accepted → cancelled (superseded)

and every move is appended to its history. How a command is carried to the vehicle
(VDA 5050 orders and instant actions) and how its progress is read back is the
commander's business (``services/commands``); this module holds only the rules.

Commands travel in two lanes per vehicle. The *trip* lane (drive, update, hold, return
to depot, charge) is strictly first in, first out. The *control* lane (pause, resume,
cancel) is ordered within itself but does not wait behind a trip that is still waiting
for the vehicle's current order to finish: an operator's pause must not queue behind a
planned journey. ``docs/commands.md`` explains the rules in full.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from headway.domain.errors import HeadwayError


class CommandKind(StrEnum):
    DRIVE = "drive"
    """Drive an order: a journey through one or more stops, with actions at each."""
    UPDATE = "update"
    """Extend or change the horizon of an order the vehicle is driving."""
    HOLD = "hold"
    """Stay at the next (or current) stop for a number of seconds."""
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    """Cancel the order the vehicle is driving; it stops at the next node."""
    RETURN_TO_DEPOT = "return_to_depot"
    CHARGE = "charge"


class CommandStatus(StrEnum):
    ACCEPTED = "accepted"
    """Stored; not yet sent (maybe waiting behind an earlier command)."""
    SENT = "sent"
    """Sent at least once; no word from the vehicle yet."""
    ACKNOWLEDGED = "acknowledged"
    """The vehicle reported that it took the command over."""
    REJECTED = "rejected"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Lane(StrEnum):
    TRIP = "trip"
    CONTROL = "control"


NEW_ORDER_KINDS = frozenset({CommandKind.DRIVE, CommandKind.RETURN_TO_DEPOT, CommandKind.CHARGE})
"""Kinds sent as a new VDA 5050 order (a new ``orderId``)."""
ORDER_KINDS = NEW_ORDER_KINDS | {CommandKind.UPDATE}
INSTANT_KINDS = frozenset(
    {CommandKind.HOLD, CommandKind.PAUSE, CommandKind.RESUME, CommandKind.CANCEL}
)
CONTROL_KINDS = frozenset({CommandKind.PAUSE, CommandKind.RESUME, CommandKind.CANCEL})

FINAL = frozenset(
    {
        CommandStatus.REJECTED,
        CommandStatus.DONE,
        CommandStatus.FAILED,
        CommandStatus.EXPIRED,
        CommandStatus.CANCELLED,
    }
)
UNACKNOWLEDGED = frozenset({CommandStatus.ACCEPTED, CommandStatus.SENT})

_NEXT: dict[CommandStatus, frozenset[CommandStatus]] = {
    CommandStatus.ACCEPTED: frozenset(
        {CommandStatus.SENT, CommandStatus.EXPIRED, CommandStatus.CANCELLED, CommandStatus.FAILED}
    ),
    CommandStatus.SENT: frozenset(
        {
            CommandStatus.SENT,
            CommandStatus.ACKNOWLEDGED,
            CommandStatus.RUNNING,
            CommandStatus.DONE,
            CommandStatus.REJECTED,
            CommandStatus.EXPIRED,
            CommandStatus.CANCELLED,
            CommandStatus.FAILED,
        }
    ),
    CommandStatus.ACKNOWLEDGED: frozenset(
        {CommandStatus.RUNNING, CommandStatus.DONE, CommandStatus.FAILED, CommandStatus.CANCELLED}
    ),
    CommandStatus.RUNNING: frozenset(
        {CommandStatus.DONE, CommandStatus.FAILED, CommandStatus.CANCELLED}
    ),
}

_PATH_AFTER_SENT = (CommandStatus.ACKNOWLEDGED, CommandStatus.RUNNING)
"""The steps a vehicle report may skip when states were lost: they are filled in."""


class IllegalTransition(HeadwayError):
    def __init__(self, command_id: str, current: CommandStatus, wanted: CommandStatus) -> None:
        super().__init__(f"command {command_id}: cannot go from {current} to {wanted}")
        self.current = current
        self.wanted = wanted


@dataclass(frozen=True, slots=True)
class StopVisit:
    """One stop of a journey and what to do there, in order."""

    stop_id: str
    actions: tuple[str, ...] = ()
    hold_s: float = 0.0


@dataclass(frozen=True, slots=True)
class CommandParams:
    """What a command says beyond its kind; fields that a kind does not use stay empty."""

    stops: tuple[StopVisit, ...] = ()
    horizon: int = 0
    """How many of the last stops are planned but not yet released (VDA 5050 horizon)."""
    order_command_id: str = ""
    """For an update: the command that started the order."""
    duration_s: float = 0.0
    place_id: str = ""
    """The depot or charger to go to; empty: the nearest."""
    target_pct: float = 0.0


@dataclass(frozen=True, slots=True)
class Transition:
    status: CommandStatus
    at: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """What was sent for an order command, as later updates and the tracker need it."""

    decision_node: int
    """Road node of the last released node (where an update must stitch on)."""
    decision_seq: int
    first_seq: int
    next_seq: int
    """The sequenceId the next update starts numbering from, after its stitching node."""
    action_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    vehicle_id: str
    manufacturer: str
    kind: CommandKind
    params: CommandParams
    status: CommandStatus
    created_at: float
    expires_at: float
    updated_at: float
    issued_by: str = ""
    seq: int = 0
    """Position among the vehicle's commands, assigned by the store when it is created."""
    version: int = 0
    """Bumped by the store on each save; a save of an older version is refused."""
    idempotency_key: str = ""
    fingerprint: str = ""
    attempts: int = 0
    next_attempt_at: float = 0.0
    order_id: str = ""
    order_update_id: int = 0
    action_id: str = ""
    plan: OrderPlan | None = None
    message: bytes = b""
    """The VDA 5050 message as first built; every retry sends the same content (with
    its own headerId and timestamp)."""
    reason: str = ""
    history: tuple[Transition, ...] = field(default_factory=tuple)

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def lane(self) -> Lane:
        return Lane.CONTROL if self.kind in CONTROL_KINDS else Lane.TRIP

    @property
    def new_order(self) -> bool:
        return self.kind in NEW_ORDER_KINDS

    @property
    def is_order(self) -> bool:
        return self.kind in ORDER_KINDS

    def at(self, status: CommandStatus) -> float | None:
        """When the command first reached ``status``, if it did."""
        for step in self.history:
            if step.status is status:
                return step.at
        return None


def transition(
    command: Command, status: CommandStatus, at: float, note: str = "", **changes: object
) -> Command:
    """The command moved to ``status``; raises IllegalTransition for a move backwards.

    A move from ``sent`` to ``running``, ``done`` or ``failed`` passes through
    ``acknowledged`` (and ``running``) on the way, at the same instant: a vehicle that
    reports a finished action has evidently taken the command over, even if the states
    that said so were lost.
    """
    current = command.status
    if status not in _NEXT.get(current, frozenset()):
        raise IllegalTransition(command.id, current, status)
    steps: list[Transition] = []
    if current is CommandStatus.SENT and status in (
        CommandStatus.RUNNING,
        CommandStatus.DONE,
        CommandStatus.FAILED,
    ):
        for implied in _PATH_AFTER_SENT:
            if implied is status:
                break
            if implied is CommandStatus.RUNNING and status is CommandStatus.FAILED:
                break
            steps.append(Transition(implied, at))
    if not (status is CommandStatus.SENT and current is CommandStatus.SENT):
        steps.append(Transition(status, at, note))
    reason = note if status in FINAL and note else command.reason
    return replace(
        command,
        status=status,
        updated_at=at,
        reason=reason,
        history=command.history + tuple(steps),
        **changes,  # type: ignore[arg-type]
    )


def can_move(command: Command, status: CommandStatus) -> bool:
    return status in _NEXT.get(command.status, frozenset())


def order_id_for(command_id: str) -> str:
    """A new order is identified by the command that started it."""
    return command_id


def node_action_id(command_id: str, index: int, action_type: str) -> str:
    """Ids of the actions an order command places on its nodes: unique and traceable."""
    return f"{command_id}.{index}.{action_type}"
