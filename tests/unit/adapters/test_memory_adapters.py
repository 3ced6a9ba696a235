"""The in-memory adapters pass the same contract suites as the real ones."""

from __future__ import annotations

from headway.adapters.memory.event_log import MemoryEventLog
from headway.adapters.memory.live_state import MemoryLiveState
from tests.contract.event_log import EventLogContract
from tests.contract.live_state import LiveStateContract


class TestMemoryEventLog(EventLogContract):
    def make_log(self) -> MemoryEventLog:
        return MemoryEventLog(partitions=3)


class TestMemoryLiveState(LiveStateContract):
    async def make_live(self) -> MemoryLiveState:
        return MemoryLiveState()
