"""Rides between the stack's stateless API processes and its one dispatcher, over Redis.

Keys (all under ``prefix``):
- ``{p}rides:calls``        stream of passenger calls (``services/rides/calls.py``),
                            read by the consumer group ``dispatcher``
- ``{p}rides:reply:{id}``   list holding the one reply to call ``id`` (expires)
- ``{p}rides:board``        hash ride id -> the plan's vehicle and ETAs, written by the
                            dispatcher after every tick

``RedisRideDesk`` is the API's side (the ``RideDesk`` port): a call is appended to the
stream and its reply awaited with BLPOP, for at most ``timeout_s``; no reply means no
dispatcher is serving (``DispatcherUnavailable``, a 503). Reads (a ride, a passenger's
rides) go straight to the ride store, and the plan's ETAs come from the board.

``RideInbox`` is the dispatcher's side: it reads calls as the group's consumer,
answers each through a ``RideDesk`` (the ride service), and acknowledges it after the
reply is written. A call it held when it died stays pending in the group and is read
again by the next dispatcher (``recover``); a call found past its deadline is dropped
unanswered (its caller has had a 503), one whose ride was created already answers that
ride. Calls that do not decode or check are refused with the reason, counted and
acknowledged: they never stop the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import msgspec
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry, Counter
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from headway.domain.errors import StoreUnavailable
from headway.domain.rides import Ride
from headway.services.ports import RideDesk, RideStore
from headway.services.rides.calls import (
    BadRideCall,
    RideCall,
    RideReply,
    answer,
    decode_call,
    decode_reply,
    encode_call,
    encode_reply,
    raise_for,
)
from headway.services.rides.service import new_ride_id, read_ride

log = logging.getLogger(__name__)

GROUP = "dispatcher"
STREAM_MAX_LEN = 100_000
"""Calls kept in the stream (approximately): answered ones are history only."""
REPLY_TTL_S = 60
_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class DispatcherUnavailable(StoreUnavailable):
    """No dispatcher answered in time (none running, or it is restarting). The call may
    not have been carried out; asking again is safe."""


def keys(prefix: str) -> tuple[str, str, str]:
    """(call stream, reply key prefix, plan board)."""
    return f"{prefix}rides:calls", f"{prefix}rides:reply:", f"{prefix}rides:board"


class BoardEntry(msgspec.Struct, array_like=True, frozen=True):
    vehicle_id: str
    pickup_eta: float
    dropoff_eta: float


_board_decoder = msgspec.msgpack.Decoder(BoardEntry)
_board_encoder = msgspec.msgpack.Encoder()


class RedisRideDesk:
    """The API side: calls to the dispatcher, reads from the ride store."""

    def __init__(
        self,
        client: aioredis.Redis,
        store: RideStore,
        prefix: str,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis: Any = client
        self._store = store
        self._stream, self._replies, self._board = keys(prefix)
        self.timeout_s = timeout_s
        self._clock = clock

    async def request(
        self,
        passenger: str,
        origin: tuple[float, float],
        destination: tuple[float, float],
        seats: int,
        earliest_pickup: float | None = None,
        ride_id: str | None = None,
    ) -> Ride:
        ride_id = ride_id or new_ride_id(int(self._clock() * 1000))
        return await self._call(
            "request",
            passenger,
            ride_id,
            origin=origin,
            destination=destination,
            seats=seats,
            earliest_pickup=earliest_pickup,
        )

    async def accept(self, passenger: str, ride_id: str) -> Ride:
        return await self._call("accept", passenger, ride_id)

    async def decline(self, passenger: str, ride_id: str) -> Ride:
        return await self._call("decline", passenger, ride_id)

    async def cancel(self, passenger: str, ride_id: str) -> Ride:
        return await self._call("cancel", passenger, ride_id)

    async def get(self, passenger: str | None, ride_id: str) -> Ride:
        return await read_ride(self._store, passenger, ride_id)

    async def mine(self, passenger: str, before: str = "", limit: int = 50) -> list[Ride]:
        return await self._store.for_passenger(passenger, before, limit)

    async def current(self, ride: Ride) -> Ride:
        if ride.final:
            return ride
        try:
            data = await self._redis.hget(self._board, ride.id)
        except _REDIS_DOWN as exc:
            raise StoreUnavailable(f"ride plans unavailable: {exc}") from exc
        if data is None:
            return ride
        entry = _board_decoder.decode(data)
        return replace(
            ride,
            vehicle_id=entry.vehicle_id,
            pickup_eta=entry.pickup_eta,
            dropoff_eta=entry.dropoff_eta,
        )

    def wall(self) -> float:
        return self._clock()

    async def _call(self, op: str, passenger: str, ride_id: str, **fields: object) -> Ride:
        call_id = secrets.token_hex(8)
        reply_to = self._replies + call_id
        call = msgspec.convert(
            dict(
                fields,
                id=call_id,
                op=op,
                passenger=passenger,
                ride_id=ride_id,
                reply_to=reply_to,
                deadline=self._clock() + self.timeout_s,
            ),
            RideCall,
        )
        try:
            await self._redis.xadd(
                self._stream,
                {"call": encode_call(call)},
                maxlen=STREAM_MAX_LEN,
                approximate=True,
            )
            got = await self._redis.blpop([reply_to], timeout=self.timeout_s)
        except _REDIS_DOWN as exc:
            raise DispatcherUnavailable(f"dispatcher unreachable: {exc}") from exc
        if got is None:
            raise DispatcherUnavailable(
                f"dispatcher unavailable: no answer within {self.timeout_s:g} s"
            )
        return raise_for(decode_reply(got[1]), ride_id)


class InboxMetrics:
    """The inbox's counters, on the process's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "headway_ride_calls",
            "Passenger calls the dispatcher read, by operation and outcome",
            ["op", "outcome"],
            registry=registry,
        )
        self.rejected = Counter(
            "headway_ride_calls_rejected",
            "Passenger calls refused as malformed, by reason",
            ["reason"],
            registry=registry,
        )


class RideInbox:
    """The dispatcher side; see the module docstring."""

    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str,
        consumer: str,
        desk: RideDesk,
        metrics: InboxMetrics,
        clock: Callable[[], float] = time.time,
        batch: int = 64,
        block_s: float = 0.5,
    ) -> None:
        self._redis: Any = client
        self._stream, self._replies, self._board = keys(prefix)
        self._consumer = consumer
        self._desk = desk
        self.metrics = metrics
        self._clock = clock
        self._batch = batch
        self._block_ms = int(block_s * 1000)
        self.handled = 0

    async def open(self) -> None:
        """Make the consumer group (from the stream's start: no call is skipped)."""
        try:
            await self._redis.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def recover(self) -> int:
        """Take over and answer every call left pending by an earlier dispatcher (it
        died before acknowledging them). Call once, as the only dispatcher."""
        done, start = 0, "0-0"
        while True:
            reply = await self._redis.xautoclaim(
                self._stream, GROUP, self._consumer, min_idle_time=0, start_id=start, count=100
            )
            start, entries = reply[0], reply[1]
            await self._handle(entries)
            done += len(entries)
            if start in (b"0-0", "0-0") or not entries:
                return done

    async def run(self, stop: asyncio.Event) -> None:
        """Read and answer calls until ``stop``. Redis away is waited out with backoff;
        what was read but not acknowledged then is read again from the pending list."""
        pause, behind = 0.2, False
        while not stop.is_set():
            try:
                if behind:
                    await self.recover()
                    behind = False
                got = await self._redis.xreadgroup(
                    GROUP, self._consumer, {self._stream: ">"}, self._batch, self._block_ms
                )
                for _, entries in got or []:
                    await self._handle(entries)
                pause = 0.2
            except _REDIS_DOWN as exc:
                log.warning("ride calls: redis unavailable (%s); retrying in %.1f s", exc, pause)
                behind = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                pause = min(pause * 2, 5.0)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                await self.open()  # the stream was deleted under us: start it again

    async def _handle(self, entries: Any) -> None:
        for entry_id, fields in entries:
            if not fields:  # trimmed from the stream meanwhile
                await self._redis.xack(self._stream, GROUP, entry_id)
                continue
            try:
                await self._one(fields)
            except _REDIS_DOWN:
                raise  # unacknowledged: read again once Redis is back
            except Exception:  # one call must not stop the others
                self.metrics.calls.labels("?", "error").inc()
                log.exception("ride call %s failed; dropped", entry_id)
            await self._redis.xack(self._stream, GROUP, entry_id)
            self.handled += 1

    async def _one(self, fields: dict[bytes, bytes]) -> None:
        try:
            data = fields.get(b"call")
            if data is None:
                raise BadRideCall("no_call", f"entry has fields {sorted(fields)} but no 'call'")
            call = decode_call(data, self._replies)
        except BadRideCall as exc:
            self.metrics.rejected.labels(exc.reason).inc()
            log.warning("ride call refused: %s", exc)
            if exc.reply_to:
                await self._reply(exc.reply_to, RideReply(error="bad_call", message=str(exc)))
            return
        if self._clock() > call.deadline:
            # Its caller was told 503 already; carrying it out now would surprise them.
            self.metrics.calls.labels(call.op, "late").inc()
            return
        try:
            reply = await answer(self._desk, call)
        except StoreUnavailable as exc:
            self.metrics.calls.labels(call.op, "unavailable").inc()
            log.warning("ride call %s %s: %s", call.op, call.ride_id, exc)
            return  # no reply: the caller answers 503 at its deadline
        self.metrics.calls.labels(call.op, reply.error or "ok").inc()
        await self._reply(call.reply_to, reply)

    async def _reply(self, key: str, reply: RideReply) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, encode_reply(reply))
            pipe.expire(key, REPLY_TTL_S)
            await pipe.execute()


class RideBoard:
    """The plan's vehicle and ETAs of every open ride, for the API processes to show:
    written by the dispatcher (only what changed), read by ``RedisRideDesk.current``."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._redis: Any = client
        self._key = keys(prefix)[2]
        self._shown: dict[str, BoardEntry] = {}

    async def clear(self) -> None:
        """Start afresh (a new dispatcher does not know what its predecessor wrote)."""
        await self._redis.delete(self._key)
        self._shown = {}

    async def show(self, entries: dict[str, BoardEntry]) -> None:
        changed = {k: v for k, v in entries.items() if self._shown.get(k) != v}
        gone = [k for k in self._shown if k not in entries]
        if not changed and not gone:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            if changed:
                pipe.hset(
                    self._key, mapping={k: _board_encoder.encode(v) for k, v in changed.items()}
                )
            if gone:
                pipe.hdel(self._key, *gone)
            await pipe.execute()
        self._shown = dict(entries)
