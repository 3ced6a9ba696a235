"""The in-memory command store and queue pass the contract suites the real ones run."""

from __future__ import annotations

from headway.adapters.memory.command_queue import MemoryCommandQueue
from headway.adapters.memory.command_store import MemoryCommandStore
from headway.services.ports import CommandQueue, CommandStore
from tests.contract.command_queue import CommandQueueContract
from tests.contract.command_store import CommandStoreContract


class TestMemoryCommandStore(CommandStoreContract):
    async def make_store(self) -> CommandStore:
        return MemoryCommandStore()


class TestMemoryCommandQueue(CommandQueueContract):
    async def make_queue(self) -> CommandQueue:
        return MemoryCommandQueue()
