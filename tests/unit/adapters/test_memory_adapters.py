"""The embedded profile's adapters pass the same contract suites as the real ones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from headway.adapters.memory.event_log import MemoryEventLog
from headway.adapters.memory.live_state import MemoryLiveState
from headway.adapters.sqlite_records import SqliteRecords
from tests.contract.event_log import EventLogContract
from tests.contract.live_state import LiveStateContract
from tests.contract.records import RecordsContract


class TestMemoryEventLog(EventLogContract):
    def make_log(self) -> MemoryEventLog:
        return MemoryEventLog(partitions=3)


class TestMemoryLiveState(LiveStateContract):
    async def make_live(self) -> MemoryLiveState:
        return MemoryLiveState()


class TestSqliteRecords(RecordsContract):
    @pytest.fixture(autouse=True)
    async def _records(self, tmp_path: Path) -> AsyncIterator[None]:
        self.made: list[SqliteRecords] = []
        self.path = tmp_path / "records.sqlite"
        yield
        for records in self.made:
            await records.close()

    async def make_records(self) -> SqliteRecords:
        records = SqliteRecords(self.path)
        self.made.append(records)
        return records
