"""Command records for the pure tests: one vehicle's commands, each a line of shorthand."""

from __future__ import annotations

from dataclasses import replace

from headway.domain.commands import (
    INSTANT_KINDS,
    Command,
    CommandKind,
    CommandParams,
    CommandStatus,
    OrderPlan,
    Transition,
)

T0 = 1_000.0


def cmd(
    seq: int,
    kind: CommandKind,
    status: CommandStatus = CommandStatus.ACCEPTED,
    **kw: object,
) -> Command:
    command_id = f"c{seq}"
    base = Command(
        id=command_id,
        vehicle_id="v1",
        manufacturer="acme",
        kind=kind,
        params=CommandParams(duration_s=30.0) if kind is CommandKind.HOLD else CommandParams(),
        status=status,
        created_at=T0,
        expires_at=T0 + 60.0,
        updated_at=T0,
        seq=seq,
        version=1,
        order_id=command_id if kind not in INSTANT_KINDS else "",
        action_id=command_id if kind in INSTANT_KINDS else "",
        history=(Transition(CommandStatus.ACCEPTED, T0),),
    )
    if status is not CommandStatus.ACCEPTED:
        base = replace(base, attempts=1, next_attempt_at=T0 + 2.0)
    return replace(base, **kw)  # type: ignore[arg-type]


def order_cmd(
    seq: int, status: CommandStatus, kind: CommandKind = CommandKind.DRIVE, **kw: object
) -> Command:
    plan = OrderPlan(
        decision_node=7,
        decision_seq=6,
        first_seq=0,
        next_seq=7,
        action_ids=(f"c{seq}.11.pick", f"c{seq}.12.drop"),
    )
    return cmd(seq, kind, status, plan=plan, **kw)
