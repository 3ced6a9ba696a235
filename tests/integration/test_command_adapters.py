"""The command adapters against the stack's services (the queue on Redis, the records
on PostgreSQL), held to the same contracts as the in-memory ones, plus what only the
real services show."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import psycopg
import pytest

from headway.adapters.postgres.commands import PostgresCommandStore
from headway.adapters.redis_command_queue import RedisCommandQueue
from headway.domain.commands import CommandStatus, transition
from headway.domain.errors import StoreUnavailable
from headway.services.ports import CommandQueue, CommandStore, StaleCommand
from tests.contract.command_queue import CommandQueueContract
from tests.contract.command_store import CommandStoreContract, command
from tests.integration.commands_stack import schema_url
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


class TestRedisCommandQueue(CommandQueueContract):
    @pytest.fixture(autouse=True)
    def _stack(self, stack: Stack, unique: str) -> None:
        self.url = stack.redis_url
        self.prefix = f"{unique}:"

    async def make_queue(self) -> CommandQueue:
        return RedisCommandQueue(self.url, prefix=self.prefix)


async def test_commands_queued_before_any_commander_are_delivered(
    stack: Stack, unique: str
) -> None:
    early = RedisCommandQueue(stack.redis_url, prefix=f"{unique}:")
    await early.put("v1", "c-early")
    await early.close()
    queue = RedisCommandQueue(stack.redis_url, prefix=f"{unique}:")
    taken = await queue.take("commander-1", 10, 0.1)
    assert [e.command_id for e in taken] == ["c-early"]
    await queue.close()


async def test_a_restarted_commander_reads_its_pending_entries_with_their_data(
    stack: Stack, unique: str
) -> None:
    queue = RedisCommandQueue(stack.redis_url, prefix=f"{unique}:")
    for k in range(1500):
        await queue.put(f"v{k % 7}", f"c{k}")
    taken = []
    while len(taken) < 1500:
        taken += await queue.take("commander-1", 500, 0.1)
    await queue.ack([e.entry_id for e in taken[:10]])
    await queue.close()
    restarted = RedisCommandQueue(stack.redis_url, prefix=f"{unique}:")
    pending = await restarted.pending("commander-1")
    assert [e.command_id for e in pending] == [f"c{k}" for k in range(10, 1500)]
    assert pending[0].vehicle_id == "v3"
    await restarted.close()


async def test_an_unreachable_redis_is_reported_as_unavailable() -> None:
    queue = RedisCommandQueue("redis://127.0.0.1:1/0", timeout_s=0.5)
    with pytest.raises(StoreUnavailable, match="Redis unavailable, cannot queue a command"):
        await queue.put("v1", "c1")
    await queue.close()


@pytest.fixture(scope="module")
def commands_db(stack: Stack) -> str:
    """A database URL whose tables live in a schema of this module's own, migrated."""
    return schema_url(stack.database_url)


class TestPostgresCommandStore(CommandStoreContract):
    @pytest.fixture(autouse=True)
    async def _stack(self, commands_db: str) -> AsyncIterator[None]:
        self.url = commands_db
        self.made: list[PostgresCommandStore] = []
        yield
        for store in self.made:
            await store.close()

    async def make_store(self) -> CommandStore:
        store = PostgresCommandStore(self.url)
        await store.open()
        self.made.append(store)
        return store


@pytest.fixture
async def store(commands_db: str) -> AsyncIterator[PostgresCommandStore]:
    store = PostgresCommandStore(commands_db, max_size=8)
    await store.open()
    yield store
    await store.close()


async def test_concurrent_creates_for_one_vehicle_get_distinct_seqs(
    store: PostgresCommandStore, unique: str
) -> None:
    made = await asyncio.gather(*(store.create(command(unique)) for _ in range(40)))
    assert sorted(c.seq for c, _ in made) == list(range(1, 41))


async def test_concurrent_creates_with_one_idempotency_key_store_one_command(
    store: PostgresCommandStore, unique: str
) -> None:
    made = await asyncio.gather(
        *(store.create(command(unique, idempotency_key=f"ops:{unique}")) for _ in range(20))
    )
    assert len({c.id for c, _ in made}) == 1
    assert sum(fresh for _, fresh in made) == 1
    found = await store.open_for_vehicles([unique])
    assert [c.seq for c in found[unique]] == [1]


async def test_of_two_concurrent_saves_of_one_version_exactly_one_wins(
    store: PostgresCommandStore, unique: str
) -> None:
    created, _ = await store.create(command(unique))
    moves = [
        transition(created, CommandStatus.SENT, 2.0, attempts=1),
        transition(created, CommandStatus.EXPIRED, 2.0, "too late"),
    ]
    results = await asyncio.gather(*(store.save(m) for m in moves), return_exceptions=True)
    assert sum(isinstance(r, StaleCommand) for r in results) == 1
    winner = next(r for r in results if not isinstance(r, BaseException))
    assert await store.get(created.id) == winner


async def test_a_saved_record_is_queryable_by_its_columns(
    store: PostgresCommandStore, commands_db: str, unique: str
) -> None:
    created, _ = await store.create(command(unique))
    await store.save(replace(transition(created, CommandStatus.SENT, 5.0), attempts=1))
    with psycopg.connect(commands_db) as conn:
        row = conn.execute(
            "SELECT state, version, seq, body->>'status' FROM commands WHERE id = %s",
            (created.id,),
        ).fetchone()
    assert row == ("sent", 2, 1, "sent")


async def test_an_unreachable_database_is_reported_as_unavailable() -> None:
    store = PostgresCommandStore(
        "postgresql://headway:x@127.0.0.1:1/headway", min_size=0, timeout_s=1.0
    )
    await store.open()
    with pytest.raises(StoreUnavailable, match="command records unavailable"):
        await store.get("c1")
    await store.close()
