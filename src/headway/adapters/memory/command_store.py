"""The embedded profile's command records, in process memory.

Keeps what the PostgreSQL adapter keeps (one row per command, a per-vehicle sequence,
a unique idempotency key, compare-and-set on the version) so the same contract suite
holds both. Records are never dropped while the process lives; ended commands beyond
``keep_ended`` are forgotten oldest first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import replace

from headway.domain.commands import Command, CommandKind, CommandStatus
from headway.services.ports import DuplicateCommand, StaleCommand


class MemoryCommandStore:
    def __init__(self, keep_ended: int = 200_000) -> None:
        self._keep_ended = keep_ended
        self._by_id: dict[str, Command] = {}
        self._by_key: dict[str, str] = {}
        self._open: dict[str, dict[str, Command]] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._seq: dict[str, int] = {}

    async def create(self, command: Command) -> tuple[Command, bool]:
        if command.idempotency_key:
            known = self._by_key.get(command.idempotency_key)
            if known is not None:
                return self._by_id[known], False
        if command.id in self._by_id:
            raise DuplicateCommand(command.id)
        seq = self._seq.get(command.vehicle_id, 0) + 1
        self._seq[command.vehicle_id] = seq
        stored = replace(command, seq=seq, version=1)
        self._put(stored)
        if command.idempotency_key:
            self._by_key[command.idempotency_key] = command.id
        return stored, True

    async def get(self, command_id: str) -> Command | None:
        return self._by_id.get(command_id)

    async def save(self, command: Command) -> Command:
        stored = self._by_id.get(command.id)
        if stored is None:
            raise KeyError(f"no command {command.id!r}: create it first")
        if stored.version != command.version:
            raise StaleCommand(
                f"command {command.id}: saving version {command.version}, "
                f"stored is {stored.version}"
            )
        saved = replace(command, version=command.version + 1, seq=stored.seq)
        self._put(saved)
        return saved

    async def open_for_vehicles(self, vehicle_ids: Sequence[str]) -> dict[str, list[Command]]:
        found: dict[str, list[Command]] = {}
        for vehicle_id in vehicle_ids:
            commands = self._open.get(vehicle_id)
            if commands:
                found[vehicle_id] = sorted(commands.values(), key=lambda c: c.seq)
        return found

    async def query(
        self,
        vehicle_id: str | None = None,
        status: CommandStatus | None = None,
        kind: CommandKind | None = None,
        before: str = "",
        limit: int = 100,
    ) -> list[Command]:
        found: list[Command] = []
        for command_id in sorted(self._by_id, reverse=True):
            if before and command_id >= before:
                continue
            command = self._by_id[command_id]
            if vehicle_id is not None and command.vehicle_id != vehicle_id:
                continue
            if status is not None and command.status is not status:
                continue
            if kind is not None and command.kind is not kind:
                continue
            found.append(command)
            if len(found) >= limit:
                break
        return found

    async def stale(
        self,
        updated_before: float,
        limit: int,
        statuses: Collection[CommandStatus] | None = None,
    ) -> list[Command]:
        found = [
            c
            for commands in self._open.values()
            for c in commands.values()
            if c.updated_at < updated_before and (statuses is None or c.status in statuses)
        ]
        found.sort(key=lambda c: c.updated_at)
        return found[:limit]

    def _put(self, command: Command) -> None:
        self._by_id[command.id] = command
        bucket = self._open.setdefault(command.vehicle_id, {})
        if not command.final:
            bucket[command.id] = command
            return
        bucket.pop(command.id, None)
        if not bucket:
            del self._open[command.vehicle_id]
        self._ended[command.id] = None
        while len(self._ended) > self._keep_ended:
            old, _ = self._ended.popitem(last=False)
            forgotten = self._by_id.pop(old, None)
            if forgotten is not None and forgotten.idempotency_key:
                self._by_key.pop(forgotten.idempotency_key, None)
