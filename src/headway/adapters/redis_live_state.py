"""The stack profile's live state in Redis 7: one hash per vehicle, a GEO index, a
change journal, and a pub/sub notice per batch for the live feeds.

Keys (all under ``prefix``):
- ``{p}v:{id}``      hash: ``s`` the encoded state, ``ts`` its vehicle-clock timestamp
- ``{p}ids``         sorted set of vehicle ids, all score 0 (lexicographic keyset paging)
- ``{p}geo``         GEO index of positions
- ``{p}changed``     sorted set id -> version of its last change
- ``{p}version``     counter, one step per batch
- ``{p}alerts``      hash alert id -> encoded active alert
- channel ``{p}changes`` carries the new version after each batch

A batch is written by one Lua script, atomically, and a state is only stored if its
timestamp is not older than the stored one: when two processors briefly own the same
vehicle during a rebalance, the older write loses instead of moving the vehicle back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, ParamSpec, TypeVar

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from headway.domain.alerts import Alert
from headway.domain.errors import StoreUnavailable
from headway.domain.geo import haversine_m
from headway.domain.vehicles import AlertKind, VehicleState, VehicleStatus
from headway.services.ports import BBox

_PUT = """
local p = ARGV[1]
local version = redis.call('INCR', p .. 'version')
local applied = 0
for i = 2, #ARGV, 5 do
  local id, ts = ARGV[i], tonumber(ARGV[i + 1])
  local key = p .. 'v:' .. id
  local old = redis.call('HGET', key, 'ts')
  if (not old) or tonumber(old) <= ts then
    redis.call('HSET', key, 's', ARGV[i + 2], 'ts', ARGV[i + 1])
    redis.call('ZADD', p .. 'ids', 0, id)
    redis.call('GEOADD', p .. 'geo', ARGV[i + 3], ARGV[i + 4], id)
    redis.call('ZADD', p .. 'changed', version, id)
    applied = applied + 1
  end
end
redis.call('PUBLISH', p .. 'changes', version)
return applied
"""

_FIELDS = tuple(VehicleState.__dataclass_fields__)

P = ParamSpec("P")
R = TypeVar("R")


def _available(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Redis away (restarting, unreachable) surfaces as StoreUnavailable."""

    @functools.wraps(method)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable(f"live state unavailable: {exc}") from exc

    return guarded


def encode_state(state: VehicleState) -> bytes:
    values: list[Any] = [getattr(state, f) for f in _FIELDS]
    values[_FIELDS.index("status")] = state.status.value
    values[_FIELDS.index("alerts")] = sorted(a.value for a in state.alerts)
    return msgspec.msgpack.encode(values)


def decode_state(blob: bytes) -> VehicleState:
    values = dict(zip(_FIELDS, msgspec.msgpack.decode(blob), strict=True))
    values["status"] = VehicleStatus(values["status"])
    values["alerts"] = frozenset(AlertKind(a) for a in values["alerts"])
    values["errors"] = tuple(values["errors"])
    return VehicleState(**values)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _encode_alert(alert: Alert) -> bytes:
    return msgspec.msgpack.encode(
        [
            alert.id,
            alert.vehicle_id,
            alert.kind.value,
            alert.severity,
            alert.message,
            alert.raised_at,
            alert.cleared_at,
        ]
    )


def _decode_alert(blob: bytes) -> Alert:
    i, v, k, s, m, r, c = msgspec.msgpack.decode(blob)
    return Alert(i, v, AlertKind(k), s, m, r, c)


class RedisLiveState:
    def __init__(self, url: str, prefix: str = "hw:", timeout_s: float = 5.0) -> None:
        self._redis: aioredis.Redis = aioredis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            health_check_interval=10,
        )
        self._p = prefix
        self._put = self._redis.register_script(_PUT)

    @property
    def client(self) -> aioredis.Redis:
        return self._redis

    @property
    def channel(self) -> str:
        return f"{self._p}changes"

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    @_available
    async def put_many(self, states: Sequence[VehicleState]) -> None:
        if not states:
            return
        args: list[Any] = [self._p]
        for s in states:
            args += [s.id, repr(s.ts), encode_state(s), s.lon, s.lat]
        await self._put(args=args)

    @_available
    async def get(self, vehicle_id: str) -> VehicleState | None:
        blob: Any = await self._redis.hget(f"{self._p}v:{vehicle_id}", "s")
        return None if blob is None else decode_state(blob)

    @_available
    async def get_many(self, vehicle_ids: Sequence[str]) -> list[VehicleState | None]:
        if not vehicle_ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for vehicle_id in vehicle_ids:
                pipe.hget(f"{self._p}v:{vehicle_id}", "s")
            blobs = await pipe.execute()
        return [None if b is None else decode_state(b) for b in blobs]

    @_available
    async def query(
        self,
        status: VehicleStatus | None = None,
        bbox: BBox | None = None,
        after: str = "",
        limit: int = 100,
    ) -> list[VehicleState]:
        inside: set[str] | None = None
        if bbox is not None:
            inside = {_text(m) for m in await self._geo_box(bbox)}
        found: list[VehicleState] = []
        start = f"({after}" if after else "-"
        while len(found) < limit:
            ids = [
                _text(i)
                for i in await self._redis.zrangebylex(
                    f"{self._p}ids", start, "+", start=0, num=max(limit * 2, 100)
                )
            ]
            if not ids:
                break
            wanted = [i for i in ids if inside is None or i in inside]
            for state in await self.get_many(wanted):
                if state is None or (status is not None and state.status != status):
                    continue
                if bbox is not None and not bbox.contains(state.lat, state.lon):
                    continue
                found.append(state)
                if len(found) >= limit:
                    break
            start = f"({ids[-1]}"
        return found

    async def _geo_box(self, bbox: BBox) -> list[Any]:
        centre_lat = (bbox.min_lat + bbox.max_lat) / 2
        centre_lon = (bbox.min_lon + bbox.max_lon) / 2
        # GEOSEARCH BYBOX is centred and in metres; a margin here, exact filtering after.
        width_m = haversine_m(centre_lat, bbox.min_lon, centre_lat, bbox.max_lon) * 1.05 + 10
        height_m = haversine_m(bbox.min_lat, centre_lon, bbox.max_lat, centre_lon) * 1.05 + 10
        result: list[Any] = await self._redis.geosearch(
            f"{self._p}geo",
            longitude=centre_lon,
            latitude=centre_lat,
            width=width_m,
            height=height_m,
            unit="m",
        )
        return result

    @_available
    async def changes_since(self, cursor: int) -> tuple[int, list[VehicleState]]:
        version = int(await self._redis.get(f"{self._p}version") or 0)
        if cursor >= version:
            return version, []
        ids = [
            _text(i)
            for i in await self._redis.zrangebyscore(f"{self._p}changed", f"({cursor}", version)
        ]
        states = await self.get_many(ids)
        return version, [s for s in states if s is not None]

    @_available
    async def put_alerts(self, alerts: Sequence[Alert]) -> None:
        if not alerts:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            for alert in alerts:
                if alert.cleared_at is None:
                    pipe.hset(f"{self._p}alerts", alert.id, _encode_alert(alert))
                else:
                    pipe.hdel(f"{self._p}alerts", alert.id)
            await pipe.execute()

    @_available
    async def active_alerts(self) -> list[Alert]:
        blobs: list[Any] = await self._redis.hvals(f"{self._p}alerts")
        return sorted((_decode_alert(b) for b in blobs), key=lambda a: a.raised_at, reverse=True)

    @_available
    async def nearest(
        self, lat: float, lon: float, radius_m: float, limit: int
    ) -> list[tuple[VehicleState, float]]:
        found: list[Any] = await self._redis.geosearch(
            f"{self._p}geo",
            longitude=lon,
            latitude=lat,
            radius=radius_m,
            unit="m",
            sort="ASC",
            count=limit,
            withdist=True,
        )
        ids = [_text(member) for member, _ in found]
        states = await self.get_many(ids)
        return [
            (state, float(distance))
            for state, (_, distance) in zip(states, found, strict=True)
            if state is not None
        ]

    async def clear(self) -> None:
        async for key in self._redis.scan_iter(match=f"{self._p}*", count=1000):
            await self._redis.delete(key)

    async def close(self) -> None:
        await self._redis.aclose()
