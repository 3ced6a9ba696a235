"""Telemetry history written beside the processor's cycle, not inside it.

The processor makes a batch visible (live state) and hands its history rows here with
the consumer positions after the batch; it goes on with the next batch while they are
written. One write runs at a time and takes every row waiting, so writes grow when
PostgreSQL is slow instead of queueing up. The positions are committed only after the
rows before them are stored, which keeps the rule of decision 13: a crash replays what
was not committed, and history drops the rows it already holds.

A failed write keeps its rows and is tried again after a pause, while live state keeps
moving. The processor waits (backpressure) once ``max_waiting`` rows are waiting, so an
outage cannot fill the memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from headway.domain.vehicles import VehicleState
from headway.services.ports import EventConsumer, Positions, Records

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.2
RETRY_MAX_S = 5.0


class HistoryWriter:
    def __init__(
        self, records: Records, consumer: EventConsumer, max_waiting: int = 50_000
    ) -> None:
        self._records = records
        self._consumer = consumer
        self._max_waiting = max_waiting
        self._rows: list[VehicleState] = []
        self._positions: Positions | None = None
        self._changed = asyncio.Condition()
        self._wake = asyncio.Event()

    @property
    def waiting(self) -> int:
        """Rows handed over and not yet stored."""
        return len(self._rows)

    def add(self, rows: Sequence[VehicleState], positions: Positions) -> None:
        """Queue a batch's rows and the consumer positions after the batch."""
        self._rows.extend(rows)
        self._positions = positions
        self._wake.set()

    async def room(self) -> None:
        """Wait while too many rows wait (the backpressure of a slow or absent store)."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self._rows) < self._max_waiting)

    async def write(self) -> None:
        """Store every waiting row, then commit the positions handed over with them.
        Raises what the store raised; the rows stay waiting."""
        rows, positions = self._rows, self._positions
        if positions is None:
            return
        self._rows, self._positions = [], None
        try:
            await self._records.add_track_points(rows)
        except BaseException:
            self._rows = rows + self._rows
            if self._positions is None:
                self._positions = positions
            raise
        await self._consumer.commit(positions)
        async with self._changed:
            self._changed.notify_all()  # room() waiters

    async def run(self, stop: asyncio.Event) -> None:
        """Write whenever rows wait, until ``stop``; then write what is left."""
        pause = RETRY_FIRST_S
        while True:
            if self._positions is None:
                if stop.is_set():
                    return
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 0.2)
                continue
            try:
                await self.write()
                pause = RETRY_FIRST_S
            except Exception as exc:  # a store outage must not end the loop
                if stop.is_set() and pause >= RETRY_MAX_S:
                    # Not committed: the next owner of these partitions replays them.
                    log.error("history: %d rows not written at stop (%s)", self.waiting, exc)
                    return
                log.warning("history write failed (%s); again in %.1f s", exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_MAX_S)
