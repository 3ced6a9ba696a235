"""A pool of PostgreSQL connections for one store, whose failures all surface as that
store's ``StoreUnavailable``: the API answers 503 with Retry-After, background loops
wait it out. The pool (psycopg_pool) replaces a broken connection when it is returned,
so a restarted PostgreSQL costs the requests in flight, not the process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg_pool import AsyncConnectionPool

from headway.domain.errors import StoreUnavailable


class StorePool:
    def __init__(
        self,
        url: str,
        what: str,
        unavailable: type[StoreUnavailable],
        min_size: int = 1,
        max_size: int = 4,
        timeout_s: float = 10.0,
    ) -> None:
        self._what = what
        self._unavailable = unavailable
        self._pool = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout_s,
            open=False,
            kwargs={"connect_timeout": int(timeout_s), "autocommit": True},
        )

    async def open(self) -> None:
        try:
            await self._pool.open(wait=True)
        except psycopg.OperationalError as exc:  # PoolTimeout: not one connection
            raise self._unavailable(f"{self._what} unavailable: {exc}") from exc

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def connection(self, doing: str) -> AsyncIterator[psycopg.AsyncConnection]:
        try:
            async with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError, TimeoutError) as exc:
            # TimeoutError: the pool had no connection to give in time.
            raise self._unavailable(f"{self._what} unavailable, cannot {doing}: {exc}") from exc
