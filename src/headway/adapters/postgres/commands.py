"""The stack profile's command records in PostgreSQL: one row per command.

The record itself is a ``jsonb`` document (``services/commands/codec.py``); the columns
beside it are what the queries filter and sort on. What the commander relies on:

* ``create`` hands out the vehicle's next ``seq`` from ``command_sequences`` in the same
  statement that inserts the row (the counter's row lock orders concurrent creates for
  one vehicle); a repeated ``idempotency_key`` (unique across the deployment) stores
  nothing and returns the first command. The body's ``seq`` and ``version`` are not
  trusted: the columns are.
* ``save`` is compare-and-set: ``UPDATE … WHERE id = … AND version = …``; no row
  updated means someone saved first (``StaleCommand``).
* ``open_for_vehicles`` and ``stale`` read partial indexes over the commands that have
  not ended, so their cost follows the open commands, not the history.

A connection pool (psycopg_pool) replaces broken connections when they are returned
(no check query before each use: the commander makes many small calls, and a check
would double their round trips); PostgreSQL away surfaces as
``CommandStoreUnavailable`` (a ``StoreUnavailable``), which the commander waits out
with backoff and the API answers with 503.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import psycopg
from psycopg import errors

from headway.adapters.postgres.pool import StorePool
from headway.domain.commands import FINAL, Command, CommandKind, CommandStatus
from headway.domain.errors import StoreUnavailable
from headway.services.commands.codec import decode_command, encode_command
from headway.services.ports import DuplicateCommand, StaleCommand

_ENDED = tuple(sorted(s.value for s in FINAL))
_OPEN = "state NOT IN ('done', 'failed', 'expired', 'cancelled', 'rejected')"
"""Spelled as in the partial indexes of migration 0003, so the planner uses them."""
_ROW = "body::text, seq, version"
_CREATE = """
WITH next AS (
    INSERT INTO command_sequences (vehicle_id, last_seq) VALUES (%(vehicle_id)s, 1)
    ON CONFLICT (vehicle_id) DO UPDATE SET last_seq = command_sequences.last_seq + 1
    RETURNING last_seq
)
INSERT INTO commands (id, vehicle_id, kind, state, body, idempotency_key,
                      created_at, updated_at, expires_at, seq, version)
SELECT %(id)s, %(vehicle_id)s, %(kind)s, %(state)s, %(body)s::jsonb, %(key)s,
       %(created_at)s, %(updated_at)s, %(expires_at)s, next.last_seq, 1
FROM next
ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING seq
"""

assert set(_ENDED) == {"done", "failed", "expired", "cancelled", "rejected"}


class CommandStoreUnavailable(StoreUnavailable):
    """PostgreSQL could not be reached; nothing was changed. Retry later."""


def _moment(unix_s: float) -> datetime:
    return datetime.fromtimestamp(unix_s, UTC)


def _command(row: tuple[str, int, int]) -> Command:
    body, seq, version = row
    return replace(decode_command(body), seq=int(seq), version=int(version))


class PostgresCommandStore:
    def __init__(
        self, url: str, min_size: int = 1, max_size: int = 4, timeout_s: float = 10.0
    ) -> None:
        self._db = StorePool(
            url, "command records", CommandStoreUnavailable, min_size, max_size, timeout_s
        )

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()

    async def create(self, command: Command) -> tuple[Command, bool]:
        key = command.idempotency_key or None
        async with self._db.connection("store a command") as conn:
            if key is not None:
                known = await self._by_key(conn, key)
                if known is not None:
                    return known, False
            try:
                # One statement, one round trip: the seq and the row commit together.
                cur = await conn.execute(_CREATE, self._create_args(command, key))
            except errors.UniqueViolation as exc:
                raise DuplicateCommand(command.id) from exc
            row = await cur.fetchone()
            if row is not None:
                return replace(command, seq=int(row[0]), version=1), True
            # Another request with this key won the race (its seq number goes unused).
            assert key is not None
            known = await self._by_key(conn, key)
            assert known is not None, "an idempotency key's row went away"
            return known, False

    @staticmethod
    def _create_args(command: Command, key: str | None) -> dict[str, object]:
        return {
            "id": command.id,
            "vehicle_id": command.vehicle_id,
            "kind": command.kind.value,
            "state": command.status.value,
            "body": encode_command(command).decode(),
            "key": key,
            "created_at": _moment(command.created_at),
            "updated_at": _moment(command.updated_at),
            "expires_at": _moment(command.expires_at),
        }

    async def _by_key(self, conn: psycopg.AsyncConnection, key: str) -> Command | None:
        cur = await conn.execute(f"SELECT {_ROW} FROM commands WHERE idempotency_key = %s", (key,))
        row = await cur.fetchone()
        return None if row is None else _command(row)

    async def get(self, command_id: str) -> Command | None:
        async with self._db.connection("read a command") as conn:
            cur = await conn.execute(f"SELECT {_ROW} FROM commands WHERE id = %s", (command_id,))
            row = await cur.fetchone()
        return None if row is None else _command(row)

    async def save(self, command: Command) -> Command:
        async with self._db.connection("save a command") as conn:
            cur = await conn.execute(
                "UPDATE commands SET state = %s, body = %s::jsonb, updated_at = %s, "
                "expires_at = %s, version = version + 1 "
                "WHERE id = %s AND version = %s RETURNING seq, version",
                (
                    command.status.value,
                    encode_command(command).decode(),
                    _moment(command.updated_at),
                    _moment(command.expires_at),
                    command.id,
                    command.version,
                ),
            )
            row = await cur.fetchone()
            if row is None:
                cur = await conn.execute(
                    "SELECT version FROM commands WHERE id = %s", (command.id,)
                )
                stored = await cur.fetchone()
        if row is not None:
            return replace(command, seq=int(row[0]), version=int(row[1]))
        if stored is None:
            raise KeyError(f"no command {command.id!r}: create it first")
        raise StaleCommand(
            f"command {command.id}: saving version {command.version}, stored is {stored[0]}"
        )

    async def open_for_vehicles(self, vehicle_ids: Sequence[str]) -> dict[str, list[Command]]:
        if not vehicle_ids:
            return {}
        async with self._db.connection("read open commands") as conn:
            cur = await conn.execute(
                f"SELECT {_ROW} FROM commands WHERE vehicle_id = ANY(%s) AND {_OPEN} "
                "ORDER BY vehicle_id, seq",
                (list(vehicle_ids),),
            )
            rows = await cur.fetchall()
        found: dict[str, list[Command]] = {}
        for row in rows:
            command = _command(row)
            found.setdefault(command.vehicle_id, []).append(command)
        return found

    async def query(
        self,
        vehicle_id: str | None = None,
        status: CommandStatus | None = None,
        kind: CommandKind | None = None,
        before: str = "",
        limit: int = 100,
    ) -> list[Command]:
        where: list[str] = []
        args: list[object] = []
        for column, value in (
            ("vehicle_id", vehicle_id),
            ("state", None if status is None else status.value),
            ("kind", None if kind is None else kind.value),
        ):
            if value is not None:
                where.append(f"{column} = %s")
                args.append(value)
        if before:
            where.append("id < %s")
            args.append(before)
        sql = f"SELECT {_ROW} FROM commands"
        if where:
            sql += " WHERE " + " AND ".join(where)
        async with self._db.connection("list commands") as conn:
            cur = await conn.execute(sql + " ORDER BY id DESC LIMIT %s", (*args, limit))
            rows = await cur.fetchall()
        return [_command(row) for row in rows]

    async def stale(
        self,
        updated_before: float,
        limit: int,
        statuses: Collection[CommandStatus] | None = None,
    ) -> list[Command]:
        sql = f"SELECT {_ROW} FROM commands WHERE {_OPEN} AND updated_at < %s"
        args: list[object] = [_moment(updated_before)]
        if statuses is not None:
            sql += " AND state = ANY(%s)"
            args.append([s.value for s in statuses])
        async with self._db.connection("list stale commands") as conn:
            cur = await conn.execute(sql + " ORDER BY updated_at LIMIT %s", (*args, limit))
            rows = await cur.fetchall()
        return [_command(row) for row in rows]
