"""The commands API: 202 with a Location, Idempotency-Key, reading and listing, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from headway.adapters.memory.command_queue import MemoryCommandQueue
from headway.adapters.memory.command_store import MemoryCommandStore
from headway.domain.users import Role
from headway.entrypoints.api.app import create_app
from headway.network.cch_router import CCHRouter
from headway.network.graph import RoadNetwork
from headway.services.commands.service import CommandService
from headway.services.commands.translate import Translator
from tests.unit.api.conftest import Api, Clock, build_context


@pytest.fixture
async def api(tmp_path: Path, town: RoadNetwork, town_router: CCHRouter) -> AsyncIterator[Api]:
    clock = Clock()
    ctx = build_context(tmp_path, clock)
    queue = MemoryCommandQueue()
    ctx.registry.register("acme", "v7")
    ctx = replace(
        ctx,
        commands=CommandService(
            MemoryCommandStore(),
            queue,
            ctx.live,
            ctx.registry,
            Translator(town, town_router),
            ctx.metrics,
            clock=clock,
        ),
    )
    app = create_app(ctx, web_dir=tmp_path / "no-web")
    app.state.test_queue = queue
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as client:
        yield Api(ctx, clock, client, app)
    await ctx.records.close()


async def test_a_command_is_accepted_with_a_location_to_follow_it(
    api: Api, town: RoadNetwork
) -> None:
    body = {"kind": "drive", "stops": [{"stop_id": str(town.stops[4].id), "hold_s": 30}]}
    response = await api.client.post("/api/v1/vehicles/v7/commands", json=body, headers=api.auth())
    assert response.status_code == 202
    command = response.json()
    assert response.headers["location"] == f"/api/v1/commands/{command['id']}"
    assert command["status"] == "accepted"
    assert command["issued_by"] == "user-operator"
    assert command["params"]["stops"][0]["actions"] == ["doorOpen", "drop", "pick", "doorClose"]
    assert command["expires_at"] - command["created_at"] == pytest.approx(120.0)
    followed = await api.client.get(response.headers["location"], headers=api.auth())
    assert followed.status_code == 200
    assert followed.json()["id"] == command["id"]
    assert api.app.state.test_queue.depth == 1  # type: ignore[attr-defined]


async def test_the_same_idempotency_key_returns_the_same_command(api: Api) -> None:
    headers = {**api.auth(), "Idempotency-Key": "hold-v7-stop-12"}
    body = {"kind": "hold", "duration_s": 30}
    first = await api.client.post("/api/v1/vehicles/v7/commands", json=body, headers=headers)
    again = await api.client.post("/api/v1/vehicles/v7/commands", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    other = await api.client.post(
        "/api/v1/vehicles/v7/commands", json={"kind": "hold", "duration_s": 60}, headers=headers
    )
    assert other.status_code == 422
    assert "already used for a different request" in other.json()["detail"]
    listed = await api.client.get("/api/v1/commands", headers=api.auth())
    assert len(listed.json()["items"]) == 1


async def test_listing_filters_and_pages_newest_first(api: Api) -> None:
    ids = []
    for kind in ("pause", "resume", "pause", "cancel"):
        api.clock.now += 1
        response = await api.client.post(
            "/api/v1/vehicles/v7/commands", json={"kind": kind}, headers=api.auth()
        )
        ids.append(response.json()["id"])
    page = await api.client.get("/api/v1/commands", params={"limit": 3}, headers=api.auth())
    assert [c["id"] for c in page.json()["items"]] == ids[::-1][:3]
    rest = await api.client.get(
        "/api/v1/commands", params={"cursor": page.json()["next_cursor"]}, headers=api.auth()
    )
    assert [c["id"] for c in rest.json()["items"]] == [ids[0]]
    assert rest.json()["next_cursor"] is None
    pauses = await api.client.get(
        "/api/v1/commands", params={"kind": "pause", "vehicle_id": "v7"}, headers=api.auth()
    )
    assert [c["id"] for c in pauses.json()["items"]] == [ids[2], ids[0]]
    accepted = await api.client.get(
        "/api/v1/commands", params={"status": "done"}, headers=api.auth()
    )
    assert accepted.json()["items"] == []


@pytest.mark.parametrize(
    ("vehicle", "body", "status", "detail"),
    [
        ("nope", {"kind": "pause"}, 404, "no vehicle 'nope' is provisioned"),
        ("v7", {"kind": "drive", "stops": [{"stop_id": "s-404"}]}, 422, "no stop 's-404'"),
        ("v7", {"kind": "fly"}, 422, "not valid"),
        ("v7", {"kind": "hold", "duration_s": 0}, 422, "not valid"),
        ("v7", {"kind": "charge", "charger_id": "c-404"}, 422, "no charger 'c-404'"),
        ("v7", {"kind": "return_to_depot", "depot_id": "d-404"}, 422, "no depot 'd-404'"),
        ("v7", {"kind": "update", "order_command_id": "c0", "stops": [{"stop_id": "x"}]}, 422, ""),
        ("v7", {"kind": "pause", "ttl_s": 7200}, 422, "not valid"),
    ],
)
async def test_what_cannot_be_done_is_refused_with_the_reason(
    api: Api, vehicle: str, body: dict[str, object], status: int, detail: str
) -> None:
    response = await api.client.post(
        f"/api/v1/vehicles/{vehicle}/commands", json=body, headers=api.auth()
    )
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert detail in response.json()["detail"]


async def test_unknown_command_is_404(api: Api) -> None:
    response = await api.client.get("/api/v1/commands/c404", headers=api.auth())
    assert response.status_code == 404


async def test_passengers_may_not_command_vehicles(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/vehicles/v7/commands", json={"kind": "pause"}, headers=api.auth(Role.PASSENGER)
    )
    assert response.status_code == 403
