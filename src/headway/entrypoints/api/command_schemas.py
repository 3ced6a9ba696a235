"""API models of commands: requests, one model per kind, and the command record out."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from headway.domain.commands import Command, CommandKind, CommandParams, StopVisit
from headway.services.commands.service import MAX_HOLD_S, MAX_STOPS, CommandRequest

StopAction = Literal["doorOpen", "drop", "pick", "doorClose", "hold"]
Ttl = Annotated[
    float | None,
    Field(gt=0, le=3600, description="seconds to be acknowledged before expiring"),
]


class StopVisitIn(BaseModel):
    stop_id: str = Field(min_length=1, max_length=128)
    actions: list[StopAction] = Field(
        default=["doorOpen", "drop", "pick", "doorClose"],
        max_length=10,
        description="what to do at the stop, in order",
    )
    hold_s: float = Field(default=0.0, ge=0, le=MAX_HOLD_S)


class _In(BaseModel):
    ttl_s: Ttl = None


class DriveIn(_In):
    """Drive a journey through these stops; the last ``horizon`` are planned, not released."""

    kind: Literal["drive"]
    stops: list[StopVisitIn] = Field(min_length=1, max_length=MAX_STOPS)
    horizon: int = Field(default=0, ge=0)


class UpdateIn(_In):
    """Extend the order a drive command started: new stops after its decision point."""

    kind: Literal["update"]
    order_command_id: str = Field(min_length=1, max_length=64)
    stops: list[StopVisitIn] = Field(min_length=1, max_length=MAX_STOPS)
    horizon: int = Field(default=0, ge=0)


class HoldIn(_In):
    """Stay at the next stop (or the current one) for ``duration_s`` seconds."""

    kind: Literal["hold"]
    duration_s: float = Field(gt=0, le=MAX_HOLD_S)


class PauseIn(_In):
    kind: Literal["pause"]


class ResumeIn(_In):
    kind: Literal["resume"]


class CancelIn(_In):
    """Cancel the order being driven; the vehicle stops at the next node."""

    kind: Literal["cancel"]


class ReturnToDepotIn(_In):
    kind: Literal["return_to_depot"]
    depot_id: str | None = Field(default=None, description="none: the nearest depot")


class ChargeIn(_In):
    kind: Literal["charge"]
    charger_id: str | None = Field(default=None, description="none: the nearest charger")
    target_pct: float = Field(default=90.0, ge=10, le=100)


CommandIn = Annotated[
    DriveIn | UpdateIn | HoldIn | PauseIn | ResumeIn | CancelIn | ReturnToDepotIn | ChargeIn,
    Field(discriminator="kind"),
]


def to_request(
    body: DriveIn | UpdateIn | HoldIn | PauseIn | ResumeIn | CancelIn | ReturnToDepotIn | ChargeIn,
) -> CommandRequest:
    kind = CommandKind(body.kind)
    params = CommandParams()
    if isinstance(body, DriveIn | UpdateIn):
        params = CommandParams(
            stops=tuple(StopVisit(s.stop_id, tuple(s.actions), s.hold_s) for s in body.stops),
            horizon=body.horizon,
            order_command_id=body.order_command_id if isinstance(body, UpdateIn) else "",
        )
    elif isinstance(body, HoldIn):
        params = CommandParams(duration_s=body.duration_s)
    elif isinstance(body, ReturnToDepotIn):
        params = CommandParams(place_id=body.depot_id or "")
    elif isinstance(body, ChargeIn):
        params = CommandParams(place_id=body.charger_id or "", target_pct=body.target_pct)
    return CommandRequest(kind, params, body.ttl_s)


class StepOut(BaseModel):
    status: str
    at: float
    note: str = ""


class CommandOut(BaseModel):
    id: str
    vehicle_id: str
    kind: str
    status: str
    final: bool
    created_at: float
    updated_at: float
    expires_at: float
    attempts: int
    seq: int
    issued_by: str
    order_id: str
    order_update_id: int
    action_id: str
    reason: str = Field(description="why it was rejected, failed, expired or cancelled")
    params: dict[str, object]
    history: list[StepOut]


class CommandPage(BaseModel):
    items: list[CommandOut]
    next_cursor: str | None


def command_out(command: Command) -> CommandOut:
    p = command.params
    params: dict[str, object] = {}
    if p.stops:
        params["stops"] = [
            {"stop_id": s.stop_id, "actions": list(s.actions), "hold_s": s.hold_s} for s in p.stops
        ]
        params["horizon"] = p.horizon
    if p.order_command_id:
        params["order_command_id"] = p.order_command_id
    if p.duration_s:
        params["duration_s"] = p.duration_s
    if p.place_id:
        params["place_id"] = p.place_id
    if p.target_pct:
        params["target_pct"] = p.target_pct
    return CommandOut(
        id=command.id,
        vehicle_id=command.vehicle_id,
        kind=command.kind.value,
        status=command.status.value,
        final=command.final,
        created_at=command.created_at,
        updated_at=command.updated_at,
        expires_at=command.expires_at,
        attempts=command.attempts,
        seq=command.seq,
        issued_by=command.issued_by,
        order_id=command.order_id,
        order_update_id=command.order_update_id,
        action_id=command.action_id,
        reason=command.reason,
        params=params,
        history=[StepOut(status=t.status.value, at=t.at, note=t.note) for t in command.history],
    )
