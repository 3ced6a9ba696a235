"""What the API needs from the rest of the process, and FastAPI dependencies for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request, WebSocket
from fastapi.security import OAuth2PasswordBearer

from headway.domain.users import Role, allows
from headway.services.identity import BadToken, Identity, Principal
from headway.services.metrics import Metrics
from headway.services.ports import DeadLetters, LiveState, Records, RideDesk, VehicleRegistry

if TYPE_CHECKING:
    from headway.services.commands.service import CommandService
    from headway.services.fixed_routes import FixedRouteService
    from headway.services.traffic import TrafficStore


@dataclass
class ApiContext:
    identity: Identity
    live: LiveState
    records: Records
    dead_letters: DeadLetters
    registry: VehicleRegistry
    metrics: Metrics
    network_geojson: bytes
    ready: Callable[[], dict[str, bool]]
    live_tick_s: float = 0.5
    commands: CommandService | None = None
    transit: FixedRouteService | None = None
    rides: RideDesk | None = None
    """The ride service (embedded) or the way to the dispatcher process (stack)."""
    passenger_signup: bool = True
    """Anyone may create a passenger account (POST /api/v1/auth/passengers)."""
    traffic: TrafficStore | None = None
    traffic_map_id: str = ""


def context_of(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.headway
    return ctx


Ctx = Annotated[ApiContext, Depends(context_of)]

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


class Unauthorized(Exception):
    def __init__(self, detail: str) -> None:
        self.detail = detail


class Forbidden(Exception):
    def __init__(self, detail: str) -> None:
        self.detail = detail


def authenticate(ctx: ApiContext, token: str | None) -> Principal:
    if not token:
        ctx.metrics.auth_failures.labels("missing").inc()
        raise Unauthorized("not authenticated: send 'Authorization: Bearer <token>'")
    try:
        return ctx.identity.verify(token)
    except BadToken as exc:
        ctx.metrics.auth_failures.labels("bad_token").inc()
        raise Unauthorized(str(exc)) from None


def require(role: Role) -> Callable[..., Principal]:
    """A dependency that admits callers whose role includes ``role``."""

    def check(ctx: Ctx, token: Annotated[str | None, Depends(oauth2)]) -> Principal:
        principal = authenticate(ctx, token)
        if not allows(principal.role, role):
            ctx.metrics.auth_failures.labels("forbidden").inc()
            raise Forbidden(f"the {principal.role.value} role may not do this; needs {role.value}")
        return principal

    check.required_role = role  # type: ignore[attr-defined]
    return check


Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
Passenger = Annotated[Principal, Depends(require(Role.PASSENGER))]


def websocket_context(websocket: WebSocket) -> ApiContext:
    ctx: ApiContext = websocket.app.state.headway
    return ctx
