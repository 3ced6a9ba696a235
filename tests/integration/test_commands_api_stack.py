"""The stack's API (``headway run api``'s app) accepts commands: stored in PostgreSQL,
queued on the Redis Stream for the commanders, followed by GET, repeated safely with an
Idempotency-Key. The database tables are in a schema of this test's own."""

from __future__ import annotations

import secrets

import httpx
import pytest
from pydantic import SecretStr

from headway.adapters.postgres.commands import PostgresCommandStore
from headway.adapters.redis_command_queue import RedisCommandQueue
from headway.config import Settings
from headway.entrypoints.api.app import create_app
from headway.entrypoints.processes import build_stack_api
from tests.integration.commands_stack import schema_url
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


async def test_the_stack_api_stores_and_queues_commands(stack: Stack, unique: str) -> None:
    password = secrets.token_urlsafe(16)
    settings = Settings(
        database_url=schema_url(stack.database_url),
        redis_url=stack.redis_url,
        redis_prefix=f"{unique}:",
        jwt_secret=SecretStr(secrets.token_urlsafe(32)),
        admin_password=SecretStr(password),
    )
    ctx, open_stores, close_stores = build_stack_api(settings)
    await open_stores()
    queue = RedisCommandQueue(stack.redis_url, prefix=f"{unique}:")
    store = PostgresCommandStore(settings.database_url)
    await store.open()
    try:
        app = create_app(ctx, None)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api"
        ) as client:
            login = await client.post(
                "/api/v1/auth/token", data={"username": "admin", "password": password}
            )
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            made = await client.post(
                "/api/v1/vehicles",
                json={"manufacturer": "acme", "serial_number": "v1"},
                headers=auth,
            )
            assert made.status_code == 201, made.text
            headers = {**auth, "Idempotency-Key": "pause-v1"}
            first = await client.post(
                "/api/v1/vehicles/v1/commands", json={"kind": "pause"}, headers=headers
            )
            assert first.status_code == 202, first.text
            command_id = first.json()["id"]
            assert first.headers["location"] == f"/api/v1/commands/{command_id}"
            again = await client.post(
                "/api/v1/vehicles/v1/commands", json={"kind": "pause"}, headers=headers
            )
            assert again.status_code == 202
            assert again.json()["id"] == command_id
            followed = await client.get(first.headers["location"], headers=auth)
            assert followed.status_code == 200
            assert followed.json()["status"] == "accepted"
            listed = await client.get("/api/v1/commands?vehicle_id=v1", headers=auth)
            assert [c["id"] for c in listed.json()["items"]] == [command_id]
            unknown = await client.post(
                "/api/v1/vehicles/nobody/commands", json={"kind": "pause"}, headers=auth
            )
            assert unknown.status_code == 404
        stored = await store.get(command_id)
        assert stored is not None
        assert (stored.vehicle_id, stored.manufacturer, stored.seq) == ("v1", "acme", 1)
        taken = await queue.take("test", 10, 0.5)
        assert [e.command_id for e in taken] == [command_id, command_id]
    finally:
        await store.close()
        await queue.close()
        await close_stores()
