"""The stack profile's traffic store, in Redis: every process reads the same factors.

Keys (under ``prefix``), per map: ``{p}traffic:{map}`` a hash with one field per source
(a processor instance) holding its part, and ``{p}traffic:{map}:version`` a counter.
A publish writes the part and increments the version in one MULTI/EXEC, so a reader
that sees a version also sees the parts behind it; a reader takes both in one
transaction too. A part is a small header (time, observation count, edge count) and
two float64 arrays (factors, last observation per edge): 20,000 edges make 320 kB,
written every few seconds by each processor.

Every call has a socket timeout; Redis out of reach raises ``StoreUnavailable``.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from headway.domain.errors import StoreUnavailable
from headway.services.traffic import STALE_AFTER_S, TrafficPart, TrafficSnapshot, merge_parts

_HEADER = struct.Struct("<dqq")  # at, observations, edges


@contextlib.contextmanager
def _available() -> Iterator[None]:
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise StoreUnavailable(f"traffic store unavailable: {exc}") from exc


def encode_part(part: TrafficPart) -> bytes:
    n = len(part.factors)
    header = _HEADER.pack(part.at, part.observations, n)
    factors = np.ascontiguousarray(part.factors, dtype="<f8").tobytes()
    seen = np.ascontiguousarray(part.observed_at, dtype="<f8").tobytes()
    return header + factors + seen


def decode_part(source: str, blob: bytes) -> TrafficPart:
    at, observations, n = _HEADER.unpack_from(blob)
    body = np.frombuffer(blob, dtype="<f8", offset=_HEADER.size, count=2 * n)
    return TrafficPart(source, at, observations, body[:n].copy(), body[n:].copy())


class RedisTrafficStore:
    def __init__(self, url: str, prefix: str = "hw:", timeout_s: float = 5.0) -> None:
        self._redis: Any = aioredis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._prefix = prefix

    def _keys(self, map_id: str) -> tuple[str, str]:
        parts = f"{self._prefix}traffic:{map_id}"
        return parts, parts + ":version"

    async def publish(self, map_id: str, part: TrafficPart) -> int:
        parts, version = self._keys(map_id)
        with _available():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(parts, part.source, encode_part(part))
                pipe.incr(version)
                _, new_version = await pipe.execute()
        return int(new_version)

    async def version(self, map_id: str) -> int:
        with _available():
            value = await self._redis.get(self._keys(map_id)[1])
        return int(value or 0)

    async def latest(
        self, map_id: str, now: float, stale_after_s: float = STALE_AFTER_S
    ) -> TrafficSnapshot | None:
        parts_key, version_key = self._keys(map_id)
        with _available():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(version_key)
                pipe.hgetall(parts_key)
                version, blobs = await pipe.execute()
        parts = [
            decode_part(k.decode() if isinstance(k, bytes) else str(k), v) for k, v in blobs.items()
        ]
        return merge_parts(int(version or 0), parts, now, stale_after_s)

    async def close(self) -> None:
        await self._redis.aclose()
