from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from headway.adapters.memory.dead_letters import MemoryDeadLetters
from headway.adapters.memory.live_state import MemoryLiveState
from headway.adapters.memory.registry import MemoryVehicleRegistry
from headway.adapters.memory.users import MemoryUserStore
from headway.adapters.sqlite_records import SqliteRecords
from headway.domain.users import Role
from headway.entrypoints.api.app import create_app
from headway.entrypoints.api.context import ApiContext
from headway.services.identity import Identity
from headway.services.metrics import Metrics

SECRET = "test-secret-0123456789abcdef-0123456789"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Api:
    ctx: ApiContext
    clock: Clock
    client: httpx.AsyncClient
    app: object

    def token(self, role: Role, ttl_s: int | None = None) -> str:
        return self.ctx.identity.issue(f"user-{role.value}", role, ttl_s)

    def auth(self, role: Role = Role.OPERATOR) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role)}"}


def build_context(tmp_path: Path, clock: Clock) -> ApiContext:
    # Argon2id with small costs: the same algorithm, fast enough for hundreds of tests.
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    identity = Identity(MemoryUserStore(), SECRET, ttl_s=600, clock=clock, hasher=hasher)
    identity.add_user("ops", "correct horse battery", Role.OPERATOR)
    identity.add_user("rider", "ride-ride-ride", Role.PASSENGER)
    return ApiContext(
        identity=identity,
        live=MemoryLiveState(),
        records=SqliteRecords(tmp_path / "api.sqlite"),
        dead_letters=MemoryDeadLetters(),
        registry=MemoryVehicleRegistry(),
        metrics=Metrics(),
        network_geojson=b'{"type":"FeatureCollection","features":[],"bbox":[0,0,1,1]}',
        ready=lambda: {"broker": True, "processor": True},
        live_tick_s=0.05,
    )


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    clock = Clock()
    ctx = build_context(tmp_path, clock)
    app = create_app(ctx, web_dir=tmp_path / "no-web")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield Api(ctx, clock, client, app)
    await ctx.records.close()
