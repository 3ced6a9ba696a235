"""Commands to vehicles: issue one (202 + Location, Idempotency-Key), read one, list them.

Issuing only stores and queues the command; the commander delivers it and tracks it,
and ``GET /api/v1/commands/{id}`` shows how far it got.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Response, status

from headway.domain.commands import CommandKind, CommandStatus
from headway.entrypoints.api.command_schemas import (
    CommandIn,
    CommandOut,
    CommandPage,
    command_out,
    to_request,
)
from headway.entrypoints.api.context import ApiContext, Ctx, Operator
from headway.services.commands.errors import (
    CommandRefused,
    IdempotencyConflict,
    UnknownCommandVehicle,
)
from headway.services.commands.service import CommandService

router = APIRouter(prefix="/api/v1", tags=["commands"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="repeat a request safely: the same key returns the same command",
    ),
]


def _service(ctx: ApiContext) -> CommandService:
    if ctx.commands is None:
        raise HTTPException(503, "this process does not accept commands")
    return ctx.commands


@router.post(
    "/vehicles/{vehicle_id}/commands",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="issueCommand",
)
async def issue_command(
    ctx: Ctx,
    principal: Operator,
    vehicle_id: str,
    body: CommandIn,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> CommandOut:
    """Accept a command for a vehicle; its status moves on as the vehicle answers."""
    service = _service(ctx)
    try:
        command, _ = await service.submit(
            vehicle_id, to_request(body), principal.subject, idempotency_key
        )
    except UnknownCommandVehicle as exc:
        raise HTTPException(404, str(exc)) from None
    except (CommandRefused, IdempotencyConflict) as exc:
        raise HTTPException(422, str(exc)) from None
    response.headers["Location"] = f"/api/v1/commands/{command.id}"
    return command_out(command)


@router.get("/commands/{command_id}", operation_id="getCommand")
async def get_command(ctx: Ctx, _: Operator, command_id: str) -> CommandOut:
    command = await _service(ctx).get(command_id)
    if command is None:
        raise HTTPException(404, f"no command {command_id!r}")
    return command_out(command)


@router.get("/commands", operation_id="listCommands")
async def list_commands(
    ctx: Ctx,
    _: Operator,
    vehicle_id: Annotated[str | None, Query(max_length=128)] = None,
    status_: Annotated[CommandStatus | None, Query(alias="status")] = None,
    kind: CommandKind | None = None,
    cursor: Annotated[str, Query(max_length=64, description="next_cursor of a page")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CommandPage:
    """Newest first."""
    found = await _service(ctx).query(vehicle_id, status_, kind, cursor, limit + 1)
    page = found[:limit]
    return CommandPage(
        items=[command_out(c) for c in page],
        next_cursor=page[-1].id if len(found) > limit else None,
    )
