"""The stack profile's command work queue: a Redis Stream with a consumer group.

Keys (under ``prefix``): ``{p}commands``, a stream of entries ``v`` (vehicle id) and
``c`` (command id), read by the consumer group ``commanders``.

- ``put`` is ``XADD`` (trimmed to about ``maxlen`` entries);
- ``take`` is ``XREADGROUP ... >``: each new entry goes to one commander and stays in
  the group's pending list, with that commander as owner, until ``ack``;
- ``pending`` reads a commander's own pending entries back (``XREADGROUP ... 0``), so a
  commander restarted under the same name carries on with them at once;
- ``reclaim`` is ``XAUTOCLAIM``: entries idle for ``min_idle_s`` change owner;
- ``touch`` resets the idle time of entries the commander still owns (a Lua script:
  ``XCLAIM`` only after checking the owner, so it never takes back an entry that was
  claimed by another meanwhile);
- ``ack`` is ``XACK`` then ``XDEL``, so the stream holds only work not yet done.

Every call has a socket timeout; a Redis that cannot be reached raises
``StoreUnavailable``, which the commander logs and waits out.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from headway.domain.errors import StoreUnavailable
from headway.services.ports import QueueEntry

GROUP = "commanders"

_TOUCH = """
local touched = 0
for i = 1, #ARGV - 1 do
  local p = redis.call('XPENDING', KEYS[1], KEYS[2], ARGV[i + 1], ARGV[i + 1], 1)
  if p[1] and p[1][2] == ARGV[1] then
    redis.call('XCLAIM', KEYS[1], KEYS[2], ARGV[1], 0, ARGV[i + 1], 'JUSTID')
    touched = touched + 1
  end
end
return touched
"""


class RedisCommandQueue:
    def __init__(
        self,
        url: str,
        prefix: str = "hw:",
        maxlen: int = 1_000_000,
        timeout_s: float = 5.0,
    ) -> None:
        self._redis: Any = aioredis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._stream = f"{prefix}commands"
        self._maxlen = maxlen
        self._timeout_s = timeout_s
        self._grouped = False
        self._touch = self._redis.register_script(_TOUCH)

    async def put(self, vehicle_id: str, command_id: str) -> str:
        async with _unavailable("queue a command"):
            await self._group()
            entry_id = await self._redis.xadd(
                self._stream,
                {"v": vehicle_id, "c": command_id},
                maxlen=self._maxlen,
                approximate=True,
            )
            return _text(entry_id)

    async def take(self, consumer: str, max_entries: int, block_s: float) -> list[QueueEntry]:
        async with _unavailable("take commands"):
            await self._group()
            # The socket timeout must outlast the block, or a quiet queue looks like a
            # dead Redis.
            block_ms = int(min(block_s, self._timeout_s / 2) * 1000)
            reply = await self._redis.xreadgroup(
                GROUP,
                consumer,
                {self._stream: ">"},
                count=max_entries,
                block=block_ms if block_ms > 0 else None,
            )
            return _entries(reply, deliveries=1)

    async def pending(self, consumer: str) -> list[QueueEntry]:
        async with _unavailable("read pending commands"):
            await self._group()
            entries: list[QueueEntry] = []
            start = "0"
            while True:
                reply = await self._redis.xreadgroup(
                    GROUP, consumer, {self._stream: start}, count=1000
                )
                batch = _entries(reply, deliveries=1)
                if not batch:
                    return await self._with_deliveries(entries)
                entries += batch
                start = batch[-1].entry_id

    async def reclaim(self, consumer: str, min_idle_s: float, max_entries: int) -> list[QueueEntry]:
        async with _unavailable("reclaim commands"):
            await self._group()
            claimed: list[QueueEntry] = []
            start = "0-0"
            while len(claimed) < max_entries:
                reply = await self._redis.xautoclaim(
                    self._stream,
                    GROUP,
                    consumer,
                    int(min_idle_s * 1000),
                    start_id=start,
                    count=max_entries - len(claimed),
                )
                start = _text(reply[0])
                claimed += _parse(reply[1], deliveries=2)
                if start == "0-0":
                    break
            return await self._with_deliveries(claimed)

    async def touch(self, consumer: str, entry_ids: Sequence[str]) -> None:
        if not entry_ids:
            return
        async with _unavailable("touch commands"):
            for first in range(0, len(entry_ids), 500):
                batch = list(entry_ids[first : first + 500])
                await self._touch(keys=[self._stream, GROUP], args=[consumer, *batch])

    async def ack(self, entry_ids: Sequence[str]) -> None:
        if not entry_ids:
            return
        async with (
            _unavailable("acknowledge commands"),
            self._redis.pipeline(transaction=True) as pipe,
        ):
            pipe.xack(self._stream, GROUP, *entry_ids)
            pipe.xdel(self._stream, *entry_ids)
            await pipe.execute()

    async def close(self) -> None:
        await self._redis.aclose()

    async def _group(self) -> None:
        if self._grouped:
            return
        try:
            # From the stream's start: entries queued before the first commander came
            # are work too.
            await self._redis.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._grouped = True

    async def _with_deliveries(self, entries: list[QueueEntry]) -> list[QueueEntry]:
        """The entries with Redis's own delivery counts."""
        if not entries:
            return entries
        counts: dict[str, int] = {}
        for first in range(0, len(entries), 1000):
            batch = entries[first : first + 1000]
            rows = await self._redis.xpending_range(
                self._stream, GROUP, min=batch[0].entry_id, max=batch[-1].entry_id, count=2000
            )
            for row in rows:
                counts[_text(row["message_id"])] = int(row["times_delivered"])
        return [
            QueueEntry(e.entry_id, e.vehicle_id, e.command_id, counts.get(e.entry_id, 1))
            for e in entries
        ]


@contextlib.asynccontextmanager
async def _unavailable(what: str) -> AsyncIterator[None]:
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise StoreUnavailable(f"Redis unavailable, cannot {what}: {exc}") from exc


def _entries(reply: Any, deliveries: int) -> list[QueueEntry]:
    if not reply:
        return []
    found: list[QueueEntry] = []
    for _stream, rows in reply:
        found += _parse(rows, deliveries)
    return found


def _parse(rows: Any, deliveries: int) -> list[QueueEntry]:
    found: list[QueueEntry] = []
    for entry_id, fields in rows:
        if not fields:
            continue  # deleted meanwhile
        found.append(
            QueueEntry(_text(entry_id), _text(fields[b"v"]), _text(fields[b"c"]), deliveries)
        )
    return found


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
