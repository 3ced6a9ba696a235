"""The WebSocket live feed, served by uvicorn: auth by close code, a snapshot, then deltas."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
import websockets
from websockets.exceptions import ConnectionClosed

from headway.adapters.amqtt_broker import free_port
from headway.domain.users import Role
from headway.entrypoints.api.app import create_app
from headway.entrypoints.api.context import ApiContext
from tests.contract.live_state import vehicle
from tests.unit.api.conftest import Clock, build_context


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, ApiContext]]:
    ctx = build_context(tmp_path, Clock(now=time.time()))
    await ctx.live.put_many([vehicle("v1"), vehicle("v2")])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(ctx, web_dir=tmp_path / "none"),
            port=port,
            log_level="warning",
            ws="websockets-sansio",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield f"ws://127.0.0.1:{port}/api/v1/live", ctx
    server.should_exit = True
    await task
    await ctx.records.close()


@pytest.mark.parametrize(("token", "code"), [("", 4401), ("garbage", 4401), ("passenger", 4403)])
async def test_refused_tokens_close_with_a_code(
    served: tuple[str, ApiContext], token: str, code: int
) -> None:
    url, ctx = served
    if token == "passenger":
        token = ctx.identity.issue("rider", Role.PASSENGER)
    async with websockets.connect(f"{url}?token={token}") as ws:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == code


async def test_snapshot_then_deltas(served: tuple[str, ApiContext]) -> None:
    url, ctx = served
    async with websockets.connect(f"{url}?token={ctx.identity.issue('op', Role.OPERATOR)}") as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert first["type"] == "snapshot"
        assert sorted(v["id"] for v in first["vehicles"]) == ["v1", "v2"]
        await ctx.live.put_many([vehicle("v2", battery_pct=42.0)])
        for _ in range(40):
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert frame["type"] == "tick"
            if frame["vehicles"]:
                assert [(v["id"], v["battery_pct"]) for v in frame["vehicles"]] == [("v2", 42.0)]
                break
        else:
            pytest.fail("no delta frame carried the change")
