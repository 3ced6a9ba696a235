"""One active instance of a single-writer process, elected with a PostgreSQL advisory
lock held on a connection of its own.

The lock lives as long as the holder's session: a holder that exits, crashes or is
killed closes its socket and PostgreSQL releases the lock at once, so a standby takes
over within its polling interval, not after a lease runs out. A holder cut off from
PostgreSQL (network, server restart) cannot know whether it still holds the lock, so
``held`` turns False and the holder must stop writing; TCP keepalives bound how long a
vanished holder's session (and so the lock) outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg

log = logging.getLogger(__name__)


class AdvisoryLeader:
    def __init__(self, url: str, name: str, timeout_s: float = 5.0) -> None:
        self._url = url
        self.name = name
        """What is led: the lock's key is derived from it (hashtext)."""
        self._timeout_s = timeout_s
        self._conn: psycopg.AsyncConnection | None = None

    async def acquire(self, stop: asyncio.Event, poll_s: float = 1.0) -> bool:
        """Wait until this instance holds the lock (True) or ``stop`` is set (False)."""
        waited = False
        while not stop.is_set():
            try:
                if await self._try():
                    return True
                if not waited:
                    log.info("%s is led by another instance; standing by", self.name)
                    waited = True
            except (psycopg.OperationalError, TimeoutError) as exc:
                log.warning("cannot reach PostgreSQL to lead %s: %s", self.name, exc)
                await self.release()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_s)
        return False

    async def held(self) -> bool:
        """Whether the lock is still held: the session is alive and answers."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._conn.execute("SELECT 1")
        except (psycopg.Error, TimeoutError):
            return False
        return True

    async def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()  # ends the session, and with it the lock
            self._conn = None

    async def _try(self) -> bool:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(
                self._url,
                autocommit=True,
                connect_timeout=int(self._timeout_s),
                keepalives=1,
                keepalives_idle=5,
                keepalives_interval=2,
                keepalives_count=3,
            )
        async with asyncio.timeout(self._timeout_s):
            cur = await self._conn.execute(
                "SELECT pg_try_advisory_lock(hashtext(%s))", (self.name,)
            )
            row = await cur.fetchone()
        return bool(row and row[0])
