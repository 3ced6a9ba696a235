"""WebSocket route of the live feed. Browsers cannot set headers on a WebSocket, so the
token comes as a query parameter; a refused token closes with 4401, a role too weak 4403."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from headway.domain.users import Role, allows
from headway.entrypoints.api.context import Unauthorized, authenticate
from headway.entrypoints.api.live import LiveFeed

router = APIRouter()


@router.websocket("/api/v1/live")
async def live(websocket: WebSocket, token: str = "") -> None:
    ctx = websocket.app.state.headway
    feed: LiveFeed = websocket.app.state.live_feed
    await websocket.accept()
    try:
        principal = authenticate(ctx, token)
    except Unauthorized as exc:
        await websocket.close(code=4401, reason=exc.detail[:120])
        return
    if not allows(principal.role, Role.OPERATOR):
        await websocket.close(code=4403, reason="the live feed needs the operator role")
        return
    await feed.serve(websocket)
