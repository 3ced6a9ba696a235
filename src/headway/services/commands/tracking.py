"""Reading a vehicle's ``state`` as acknowledgement and progress of its commands: pure.

VDA 5050 has no acknowledgement message. A vehicle shows that it took an order over by
reporting its ``orderId`` and ``orderUpdateId``, and an instant action by listing its
``actionId`` in ``actionStates``; it refuses with an entry in ``errors`` whose
references name the order (and update) or the action. Progress and the end come from
the same message: node states shrinking past the command's last released node, and the
command's actions reaching FINISHED (done) or FAILED (failed). Statuses only move
forward, so a late or duplicated state never undoes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from headway.contracts.events import ActionProgress, ErrorReport, Progress
from headway.domain.commands import (
    FINAL,
    Command,
    CommandKind,
    CommandStatus,
    can_move,
    transition,
)

_RANK = {
    CommandStatus.ACCEPTED: 0,
    CommandStatus.SENT: 1,
    CommandStatus.ACKNOWLEDGED: 2,
    CommandStatus.RUNNING: 3,
}
_STARTED = frozenset({"INITIALIZING", "RUNNING", "FINISHED", "FAILED"})


@dataclass(frozen=True, slots=True)
class VehicleReport:
    """One state message, as the commander reads it."""

    vehicle_id: str
    at: float
    """Platform time the state arrived."""
    order_id: str
    driving: bool
    progress: Progress


class _Move(Protocol):
    def __call__(self, command: Command, status: CommandStatus, note: str = "") -> None: ...


def observe(commands: list[Command], report: VehicleReport) -> list[Command]:
    """The commands (one vehicle's, not ended, in seq order) that ``report`` moves on,
    each as its new version."""
    progress = report.progress
    actions = {a.action_id: a for a in progress.actions}
    current = {c.id: c for c in commands}
    changed: dict[str, Command] = {}

    def move(command: Command, status: CommandStatus, note: str = "") -> None:
        latest = current[command.id]
        if latest.status in FINAL or latest.status is status:
            return
        if status not in FINAL and _RANK[status] <= _RANK[latest.status]:
            return
        if not can_move(latest, status):
            if status in FINAL and can_move(latest, CommandStatus.ACKNOWLEDGED):
                latest = transition(latest, CommandStatus.ACKNOWLEDGED, report.at)
            else:
                return
        moved = transition(latest, status, report.at, note)
        current[command.id] = changed[command.id] = moved

    for command in commands:
        if command.status is CommandStatus.ACCEPTED:
            continue
        if command.is_order:
            _order(command, commands, report, actions, move)
        else:
            _instant(command, commands, report, actions, move, current)
    return list(changed.values())


def _order(
    command: Command,
    commands: list[Command],
    report: VehicleReport,
    actions: dict[str, ActionProgress],
    move: _Move,
) -> None:
    progress = report.progress
    refused = _refusal(progress.errors, order=(command.order_id, command.order_update_id))
    if refused is not None and command.status is CommandStatus.SENT:
        move(command, CommandStatus.REJECTED, refused)
        return
    if report.order_id != command.order_id or progress.order_update_id < command.order_update_id:
        return
    move(command, CommandStatus.ACKNOWLEDGED)
    plan = command.plan
    if plan is None:
        return
    own = [actions.get(action_id) for action_id in plan.action_ids]
    started = any(a is not None and a.status in _STARTED for a in own)
    if (
        started
        or progress.last_node_sequence_id > plan.first_seq
        or (report.driving and progress.last_node_sequence_id >= plan.first_seq)
    ):
        move(command, CommandStatus.RUNNING)
    failed = [a for a in own if a is not None and a.status == "FAILED"]
    if failed:
        cancelling = any(
            c.kind is CommandKind.CANCEL
            and c.seq > command.seq
            and c.status not in FINAL
            and c.status is not CommandStatus.ACCEPTED
            for c in commands
        )
        if not cancelling:
            first = failed[0]
            move(command, CommandStatus.FAILED, _failure(first))
        return
    passed = (
        progress.next_node_sequence_id < 0 or progress.next_node_sequence_id > plan.decision_seq
    )
    if passed and all(a is not None and a.status == "FINISHED" for a in own):
        move(command, CommandStatus.DONE)


def _instant(
    command: Command,
    commands: list[Command],
    report: VehicleReport,
    actions: dict[str, ActionProgress],
    move: _Move,
    current: dict[str, Command],
) -> None:
    state = actions.get(command.action_id)
    if state is None:
        refused = _refusal(report.progress.errors, action=command.action_id)
        if refused is not None and command.status is CommandStatus.SENT:
            move(command, CommandStatus.REJECTED, refused)
        return
    if state.status == "WAITING":
        move(command, CommandStatus.ACKNOWLEDGED)
    elif state.status in ("INITIALIZING", "RUNNING"):
        move(command, CommandStatus.RUNNING)
    elif state.status == "FINISHED":
        move(command, CommandStatus.DONE)
        if command.kind is CommandKind.CANCEL:
            for earlier in commands:
                if earlier.seq < command.seq and earlier.is_order:
                    latest = current[earlier.id]
                    if latest.status in (CommandStatus.ACKNOWLEDGED, CommandStatus.RUNNING):
                        move(earlier, CommandStatus.CANCELLED, f"cancelled by {command.id}")
    else:
        why = _refusal(report.progress.errors, action=command.action_id)
        move(command, CommandStatus.FAILED, why or _failure(state))


def _refusal(
    errors: tuple[ErrorReport, ...],
    order: tuple[str, int] | None = None,
    action: str | None = None,
) -> str | None:
    for error in errors:
        refs = dict(error.references)
        if order is not None:
            order_id, update_id = order
            if refs.get("orderId") != order_id:
                continue
            if "orderUpdateId" in refs and refs["orderUpdateId"] != str(update_id):
                continue
        elif action is None or refs.get("actionId") != action:
            continue
        return f"{error.error_type}: {error.description}" if error.description else error.error_type
    return None


def _failure(action: ActionProgress) -> str:
    detail = f": {action.result}" if action.result else ""
    return f"action {action.action_id} failed{detail}"
