"""The ride records on the stack's PostgreSQL, held to the same contract as the
in-memory store, plus what only the real database shows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest

from headway.adapters.postgres.rides import PostgresRideStore
from headway.domain.errors import StoreUnavailable
from headway.domain.rides import RideStatus, move
from headway.services.ports import RideStore, StaleRide
from tests.contract.ride_store import NOW, RideStoreContract, ride
from tests.integration.commands_stack import schema_url
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rides_db(stack: Stack) -> str:
    return schema_url(stack.database_url)


class TestPostgresRideStore(RideStoreContract):
    @pytest.fixture(autouse=True)
    async def _stack(self, rides_db: str) -> AsyncIterator[None]:
        self.url = rides_db
        self.made: list[PostgresRideStore] = []
        yield
        for store in self.made:
            await store.close()

    async def make_store(self) -> RideStore:
        store = PostgresRideStore(self.url)
        await store.open()
        self.made.append(store)
        return store


@pytest.fixture
async def store(rides_db: str) -> AsyncIterator[PostgresRideStore]:
    store = PostgresRideStore(rides_db, max_size=8)
    await store.open()
    yield store
    await store.close()


async def test_of_two_concurrent_saves_of_one_version_exactly_one_wins(
    store: PostgresRideStore, unique: str
) -> None:
    created = await store.create(ride(unique))
    moves = [
        move(created, RideStatus.ACCEPTED, NOW + 1),
        move(created, RideStatus.DECLINED, NOW + 1),
    ]
    results = await asyncio.gather(*(store.save(m) for m in moves), return_exceptions=True)
    assert sum(isinstance(r, StaleRide) for r in results) == 1
    winner = next(r for r in results if not isinstance(r, BaseException))
    assert await store.get(created.id) == winner


async def test_rides_are_mapped_and_their_open_ones_read_through_the_index(
    store: PostgresRideStore, rides_db: str, unique: str
) -> None:
    created = await store.create(ride(unique))
    with psycopg.connect(rides_db) as conn:
        row = conn.execute(
            "SELECT state, ST_X(origin), ST_Y(origin) FROM rides WHERE id = %s", (created.id,)
        ).fetchone()
        assert row == ("offered", created.origin.lon, created.origin.lat)
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                "EXPLAIN SELECT id FROM rides WHERE state NOT IN "
                "('refused', 'declined', 'expired', 'completed', 'cancelled') "
                "ORDER BY created_at, id"
            ).fetchall()
        )
        assert "rides_open" in plan
        near = conn.execute(
            "SELECT count(*) FROM rides WHERE ST_DWithin(origin::geography, "
            "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, 100)",
            (created.origin.lon, created.origin.lat),
        ).fetchone()
        assert near is not None
        assert near[0] >= 1


async def test_an_unreachable_database_is_reported_as_unavailable() -> None:
    store = PostgresRideStore("postgresql://nobody@127.0.0.1:1/none", timeout_s=1)
    with pytest.raises(StoreUnavailable, match="ride records unavailable"):
        await store.open()
    with pytest.raises(StoreUnavailable, match="ride records unavailable, cannot read a ride"):
        await store.get("r1")
    await store.close()
