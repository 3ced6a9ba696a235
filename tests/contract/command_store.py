"""What every CommandStore adapter must do; run against each adapter by subclassing."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from headway.domain.commands import (
    Command,
    CommandKind,
    CommandParams,
    CommandStatus,
    OrderPlan,
    StopVisit,
    Transition,
    transition,
)
from headway.services.ports import CommandStore, DuplicateCommand, StaleCommand


def command(vehicle: str, **kw: object) -> Command:
    now = float(kw.pop("now", 1_800_000_000.0))  # type: ignore[arg-type]
    base = Command(
        id=f"c{uuid.uuid4().hex[:20]}",
        vehicle_id=vehicle,
        manufacturer="acme",
        kind=CommandKind.PAUSE,
        params=CommandParams(),
        status=CommandStatus.ACCEPTED,
        created_at=now,
        expires_at=now + 60,
        updated_at=now,
        history=(Transition(CommandStatus.ACCEPTED, now),),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


class CommandStoreContract:
    async def make_store(self) -> CommandStore:
        raise NotImplementedError

    @staticmethod
    def vehicle() -> str:
        return f"v-{uuid.uuid4().hex[:8]}"

    async def test_create_numbers_each_vehicles_commands(self) -> None:
        store, a, b = await self.make_store(), self.vehicle(), self.vehicle()
        seqs = [(await store.create(command(v)))[0].seq for v in (a, a, b, a)]
        assert seqs == [1, 2, 1, 3]

    async def test_a_record_round_trips_whole(self) -> None:
        store = await self.make_store()
        original = command(
            self.vehicle(),
            kind=CommandKind.DRIVE,
            params=CommandParams(stops=(StopVisit("s1", ("pick", "drop"), 5.0),), horizon=0),
            idempotency_key="ops:k1",
            fingerprint="f" * 32,
            order_id="o-1",
            plan=OrderPlan(12, 6, 0, 7, ("a.1", "a.2")),
            message=b'{"orderId":"o-1"}',
        )
        created, fresh = await store.create(original)
        assert fresh
        assert created == replace(original, seq=1, version=created.version)
        assert await store.get(original.id) == created

    async def test_an_idempotency_key_returns_the_first_command(self) -> None:
        store, v = await self.make_store(), self.vehicle()
        key = f"ops:{uuid.uuid4().hex}"
        first, created = await store.create(command(v, idempotency_key=key))
        again, created_again = await store.create(command(v, idempotency_key=key))
        assert created
        assert not created_again
        assert again.id == first.id
        assert [c.id for c in (await store.open_for_vehicles([v]))[v]] == [first.id]

    async def test_the_same_id_twice_is_refused(self) -> None:
        store = await self.make_store()
        one = command(self.vehicle())
        await store.create(one)
        with pytest.raises(DuplicateCommand):
            await store.create(replace(one, vehicle_id=self.vehicle()))

    async def test_saves_are_compare_and_set(self) -> None:
        store = await self.make_store()
        created, _ = await store.create(command(self.vehicle()))
        sent = await store.save(transition(created, CommandStatus.SENT, 2.0, attempts=1))
        assert sent.version == created.version + 1
        assert sent.status is CommandStatus.SENT
        with pytest.raises(StaleCommand):
            await store.save(transition(created, CommandStatus.EXPIRED, 3.0))
        assert (await store.get(created.id)) == sent

    async def test_open_commands_leave_the_list_when_they_end(self) -> None:
        store, a, b = await self.make_store(), self.vehicle(), self.vehicle()
        one, _ = await store.create(command(a))
        two, _ = await store.create(command(a))
        await store.create(command(b))
        found = await store.open_for_vehicles([a, b, self.vehicle()])
        assert sorted(found) == sorted([a, b])
        assert [c.id for c in found[a]] == [one.id, two.id]
        await store.save(transition(one, CommandStatus.CANCELLED, 5.0, "superseded"))
        assert [c.id for c in (await store.open_for_vehicles([a]))[a]] == [two.id]
        await store.save(transition(two, CommandStatus.EXPIRED, 5.0))
        assert a not in await store.open_for_vehicles([a])

    async def test_query_is_newest_first_with_filters_and_a_cursor(self) -> None:
        store, v = await self.make_store(), self.vehicle()
        made = []
        for k in range(5):
            kind = CommandKind.HOLD if k % 2 else CommandKind.PAUSE
            created, _ = await store.create(
                command(v, id=f"c{k:02d}{uuid.uuid4().hex[:12]}", kind=kind)
            )
            made.append(created)
        newest = await store.query(vehicle_id=v, limit=3)
        assert [c.id for c in newest] == [c.id for c in made[::-1][:3]]
        rest = await store.query(vehicle_id=v, before=newest[-1].id, limit=10)
        assert [c.id for c in rest] == [made[1].id, made[0].id]
        holds = await store.query(vehicle_id=v, kind=CommandKind.HOLD)
        assert {c.id for c in holds} == {made[1].id, made[3].id}
        await store.save(transition(made[2], CommandStatus.EXPIRED, 9.0))
        expired = await store.query(vehicle_id=v, status=CommandStatus.EXPIRED)
        assert [c.id for c in expired] == [made[2].id]

    async def test_stale_lists_open_commands_not_saved_lately(self) -> None:
        store, v = await self.make_store(), self.vehicle()
        old, _ = await store.create(command(v, now=100.0))
        ended, _ = await store.create(command(v, now=100.0))
        await store.save(transition(ended, CommandStatus.EXPIRED, 101.0))
        recent, _ = await store.create(command(v, now=500.0))
        found = {c.id for c in await store.stale(updated_before=200.0, limit=1000)}
        assert old.id in found
        assert ended.id not in found
        assert recent.id not in found

    async def test_stale_can_be_limited_to_some_statuses(self) -> None:
        store, v = await self.make_store(), self.vehicle()
        waiting, _ = await store.create(command(v, now=100.0))
        sent, _ = await store.create(command(v, now=100.0))
        sent = await store.save(transition(sent, CommandStatus.SENT, 100.0, attempts=1))
        taken = await store.save(transition(sent, CommandStatus.ACKNOWLEDGED, 101.0))
        found = await store.stale(200.0, 1000, statuses={CommandStatus.ACKNOWLEDGED})
        assert taken.id in {c.id for c in found}
        assert waiting.id not in {c.id for c in found}
        unacked = await store.stale(200.0, 1000, statuses={CommandStatus.ACCEPTED})
        assert waiting.id in {c.id for c in unacked}
        assert taken.id not in {c.id for c in unacked}
