"""Rides on the stack: the API's RedisRideDesk carries each passenger's call over the
real Redis to a RideInbox serving a RideService whose records are in the real
PostgreSQL. Held to the RideDesk contract the in-process service is held to, plus what
only the transport shows: no dispatcher means 503, a call read after its caller gave
up is not carried out, and malformed calls are refused, counted and survived."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from headway.adapters.postgres.rides import PostgresRideStore
from headway.adapters.redis_ride_desk import (
    GROUP,
    DispatcherUnavailable,
    InboxMetrics,
    RedisRideDesk,
    RideInbox,
    keys,
)
from headway.config import Settings
from headway.entrypoints.api.app import create_app
from headway.entrypoints.processes import build_stack_api
from headway.services.metrics import Metrics
from headway.services.ports import RideDesk
from headway.services.rides.errors import BadRideRequest
from tests.contract.ride_desk import RideDeskContract
from tests.integration.commands_stack import schema_url
from tests.integration.conftest import Stack
from tests.unit.rides.test_dispatcher import World

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rides_db(stack: Stack) -> str:
    return schema_url(stack.database_url)


class Served:
    """A RideService behind a RideInbox on the stack's Redis, under its own prefix."""

    def __init__(self, stack: Stack, database_url: str, prefix: str) -> None:
        self.prefix = prefix
        self.client = aioredis.from_url(stack.redis_url, socket_timeout=10)
        self.store = PostgresRideStore(database_url)
        self.metrics = Metrics()
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.inbox: RideInbox | None = None

    async def world(self) -> World:
        await self.store.open()
        world = World()
        world.store = world.rides.store = self.store  # type: ignore[assignment]
        await world.park("v1", 10)
        await world.park("v2", 400)
        await world.dispatcher.tick()
        return world

    def desk(self, timeout_s: float = 5.0) -> RedisRideDesk:
        return RedisRideDesk(self.client, self.store, self.prefix, timeout_s)

    async def serve(self, world: World, consumer: str = "dispatcher-1") -> RideInbox:
        inbox = RideInbox(
            self.client, self.prefix, consumer, world.rides, InboxMetrics(self.metrics.registry)
        )
        await inbox.open()
        await inbox.recover()
        self.inbox = inbox
        self.task = asyncio.create_task(inbox.run(self.stop))
        return inbox

    def count(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            await self.task
        await self.client.aclose()
        await self.store.close()


@pytest.fixture
async def served(stack: Stack, rides_db: str) -> AsyncIterator[Served]:
    parts = Served(stack, rides_db, f"t{uuid.uuid4().hex[:12]}:")
    yield parts
    await parts.close()


class TestRedisRideDesk(RideDeskContract):
    @pytest.fixture(autouse=True)
    def _served(self, served: Served) -> None:
        self.served = served

    async def make_desk(self) -> tuple[RideDesk, World]:
        world = await self.served.world()
        await self.served.serve(world)
        return self.served.desk(), world


async def test_no_dispatcher_is_unavailable_and_a_late_call_is_not_carried_out(
    served: Served,
) -> None:
    world = await served.world()
    desk = served.desk(timeout_s=0.3)
    ride_id = f"r{uuid.uuid4().hex}"
    with pytest.raises(DispatcherUnavailable, match=r"no answer within 0\.3 s"):
        await desk.request("ann", world.point(12), world.point(60), 1, ride_id=ride_id)
    await asyncio.sleep(0.4)  # the call's deadline passes while no one reads it
    inbox = await served.serve(world)
    for _ in range(100):
        if inbox.handled:
            break
        await asyncio.sleep(0.05)
    assert inbox.handled == 1
    assert served.count("headway_ride_calls_total", op="request", outcome="late") == 1
    assert await served.store.get(ride_id) is None  # its caller had a 503: nothing done
    ride = await served.desk().request("ann", world.point(12), world.point(60), 1)
    assert ride.status.value == "offered"


async def test_malformed_calls_are_refused_counted_and_survived(served: Served) -> None:
    world = await served.world()
    await served.serve(world)
    stream, replies, _ = keys(served.prefix)
    reply_to = replies + "bad-1"
    bad: list[Any] = [
        {"other": b"x"},  # no call at all
        {"call": b"\xff\xfe not json"},
        {"call": json.dumps({"op": "request", "reply_to": reply_to}).encode()},  # fields missing
        {
            "call": json.dumps(
                dict(
                    id="c1",
                    op="teleport",
                    passenger="ann",
                    ride_id="r1",
                    reply_to=replies + "bad-2",
                    deadline=time.time() + 5,
                )
            ).encode()
        },
        {
            "call": json.dumps(
                dict(
                    id="c2",
                    op="accept",
                    passenger="ann",
                    ride_id="r1",
                    reply_to="elsewhere:key",  # replies may only go under the desk's prefix
                    deadline=time.time() + 5,
                )
            ).encode()
        },
        {
            "call": json.dumps(
                dict(
                    id="c3",
                    op="request",
                    passenger="ann",
                    ride_id="r2",
                    reply_to=replies + "bad-3",
                    deadline=time.time() + 5,
                    origin=[91.0, 8.0],
                    destination=[49.0, 8.0],
                )
            ).encode()
        },
        {"call": b"[" * 5000},
    ]
    for fields in bad:
        await served.client.xadd(stream, fields)
    # The loop goes on: a good call after them is answered.
    ride = await served.desk().request("ann", world.point(12), world.point(60), 1)
    assert ride.status.value == "offered"
    rejected = {
        reason: served.count("headway_ride_calls_rejected_total", reason=reason)
        for reason in ("no_call", "undecodable", "invalid", "bad_reply_to", "too_large")
    }
    assert rejected == {
        "no_call": 1,
        "undecodable": 1,
        "invalid": 3,  # fields missing, an unknown op, latitude 91
        "bad_reply_to": 1,
        "too_large": 1,
    }
    # A caller that can be told is told why; nothing is left pending in the group.
    answered = await served.client.blpop([replies + "bad-3"], timeout=1)
    assert answered is not None
    assert msgspec.json.decode(answered[1])["error"] == "bad_call"
    assert "origin" in msgspec.json.decode(answered[1])["message"]
    for _ in range(100):  # the good call is acknowledged just after its reply
        pending = await served.client.xpending(stream, GROUP)
        if pending["pending"] == 0:
            break
        await asyncio.sleep(0.02)
    assert pending["pending"] == 0
    assert await served.client.exists("elsewhere:key") == 0
    with pytest.raises(BadRideRequest):
        await served.desk().request("ann", (91.0, 8.0), world.point(60), 1)


async def test_the_stack_api_answers_rides_like_the_embedded_one(
    stack: Stack, unique: str, served: Served, rides_db: str
) -> None:
    """`headway run api`'s app: 503 problem document while no dispatcher answers, then
    the same answers as the embedded profile's API."""
    password = secrets.token_urlsafe(16)
    settings = Settings(
        database_url=rides_db,
        redis_url=stack.redis_url,
        redis_prefix=served.prefix,
        jwt_secret=SecretStr(secrets.token_urlsafe(32)),
        admin_password=SecretStr(password),
    )
    ctx, open_stores, close_stores = build_stack_api(settings)
    await open_stores()
    assert isinstance(ctx.rides, RedisRideDesk)
    ctx.rides.timeout_s = 0.5
    world = await served.world()
    v1 = await world.live.get("v1")
    assert v1 is not None
    await ctx.live.put_many([v1])  # what the processors would have written to Redis
    try:
        app = create_app(ctx, None)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api"
        ) as client:
            signup = await client.post(
                "/api/v1/auth/passengers",
                json={"username": f"ann-{unique}", "password": secrets.token_urlsafe(12)},
            )
            assert signup.status_code == 201, signup.text
            auth = {"Authorization": f"Bearer {signup.json()['access_token']}"}
            (lat, lon), (lat2, lon2) = world.point(12), world.point(60)
            body = {"origin": {"lat": lat, "lon": lon}, "destination": {"lat": lat2, "lon": lon2}}
            down = await client.post("/api/v1/rides", json=body, headers=auth)
            assert down.status_code == 503
            assert down.headers["content-type"].startswith("application/problem+json")
            assert down.headers["retry-after"] == "1"
            assert "dispatcher unavailable" in down.json()["detail"]

            await served.serve(world)
            made = await client.post("/api/v1/rides", json=body, headers=auth)
            assert made.status_code == 201, made.text
            ride = made.json()
            assert made.headers["location"] == f"/api/v1/rides/{ride['id']}"
            assert ride["status"] == "offered"
            assert ride["vehicle"] is None  # not booked yet
            accepted = await client.post(f"/api/v1/rides/{ride['id']}/accept", headers=auth)
            assert accepted.status_code == 200, accepted.text
            assert accepted.json()["status"] == "accepted"
            assert accepted.json()["vehicle"]["id"] == "v1"
            assert accepted.json()["vehicle"]["lat"] == pytest.approx(v1.lat)
            got = await client.get(f"/api/v1/rides/{ride['id']}", headers=auth)
            assert got.json()["status"] == "accepted"
            listed = await client.get("/api/v1/rides", headers=auth)
            assert [r["id"] for r in listed.json()["items"]] == [ride["id"]]
            cancelled = await client.post(f"/api/v1/rides/{ride['id']}/cancel", headers=auth)
            assert cancelled.json()["status"] == "cancelled"
            again = await client.post(f"/api/v1/rides/{ride['id']}/cancel", headers=auth)
            assert again.status_code == 409
            assert again.headers["content-type"].startswith("application/problem+json")
            missing = await client.post("/api/v1/rides/r-nonesuch/accept", headers=auth)
            assert missing.status_code == 404
            bad = await client.post("/api/v1/rides", json={**body, "seats": 0}, headers=auth)
            assert bad.status_code == 422
    finally:
        with contextlib.suppress(Exception):
            await close_stores()
