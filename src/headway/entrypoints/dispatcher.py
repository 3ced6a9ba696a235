"""``headway run dispatcher``: the stack profile's ride service and dispatcher loop.

The dispatch engine is a single-writer model held in memory, so one dispatcher is
active per deployment: each instance waits for a PostgreSQL advisory lock
(``adapters/postgres/leader.py``), and a second one stands by until the first is gone.
The active one rebuilds the engine from the open ride records and its trips from the
command records (``services/rides/recovery.py``), answers the passengers' calls that
the API processes put on a Redis Stream (``adapters/redis_ride_desk.py``), plans on
live vehicle state from Redis, and sends its commands through the stack's command
service (PostgreSQL records, Redis queue) for the commanders to carry out. Should it
lose the lock (PostgreSQL gone), it stops at once and exits non-zero, and whoever runs
it starts it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import redis.asyncio as aioredis

from headway.adapters.postgres.commands import PostgresCommandStore
from headway.adapters.postgres.leader import AdvisoryLeader
from headway.adapters.postgres.migrate import upgrade
from headway.adapters.postgres.registry import PostgresVehicleRegistry
from headway.adapters.postgres.rides import PostgresRideStore
from headway.adapters.redis_command_queue import RedisCommandQueue
from headway.adapters.redis_live_state import RedisLiveState
from headway.adapters.redis_ride_desk import BoardEntry, InboxMetrics, RideBoard, RideInbox
from headway.adapters.redis_traffic import RedisTrafficStore
from headway.config import Settings
from headway.entrypoints.runtime import settle_heap
from headway.network.cch_router import CCHRouter
from headway.optimizer.dispatch import RouterTravelTimes
from headway.optimizer.dispatch.restore import RestorableEngine
from headway.services.metrics import Metrics
from headway.services.rides.dispatcher import Dispatcher
from headway.services.rides.places import StopFinder
from headway.services.rides.recovery import recover
from headway.services.rides.service import RideService
from headway.services.traffic import TrafficFollower

log = logging.getLogger(__name__)

TICK_S = 0.5
REGISTRY_REFRESH_S = 5.0
LEASE_CHECK_S = 1.0
REPORT_EVERY_S = 30.0


class LostLeadership(RuntimeError):
    """Another dispatcher may be active now: this one stopped writing."""


def leader_name(settings: Settings) -> str:
    """One dispatcher per deployment: the deployment is named by its Redis prefix."""
    return f"headway-dispatcher:{settings.redis_prefix}"


async def run_dispatcher(settings: Settings, ready: Callable[[], None] | None = None) -> None:
    from headway.entrypoints.processes import (
        _until_signalled,
        instance_name,
        load_network,
        submitter,
    )

    name = instance_name(settings, "dispatcher")
    url, prefix = settings.database_url, settings.redis_prefix
    await asyncio.to_thread(upgrade, url)
    network = await asyncio.to_thread(load_network, settings)
    router = await asyncio.to_thread(CCHRouter, network)
    travel = RouterTravelTimes(router)
    traffic_store = RedisTrafficStore(settings.redis_url, prefix=prefix)
    follower = TrafficFollower(
        traffic_store, network.frame.map_id, [router], after_apply=[travel.invalidate]
    )
    live = RedisLiveState(settings.redis_url, prefix=prefix)
    client = aioredis.from_url(settings.redis_url, socket_timeout=10)
    registry = PostgresVehicleRegistry(url)
    ride_store = PostgresRideStore(url)
    command_store = PostgresCommandStore(url)
    command_queue = RedisCommandQueue(settings.redis_url, prefix=prefix)
    metrics = Metrics()
    commands = submitter(command_store, command_queue, network, live, registry, metrics)
    engine = RestorableEngine(travel, network)
    rides = RideService(engine, travel, ride_store, StopFinder(network), metrics)
    board = RideBoard(client, prefix)

    def fleet() -> list[str]:
        return [serial for _, serial in registry.all()]

    async def show() -> None:
        async with rides.lock:
            entries = {k: BoardEntry(*v) for k, v in dispatcher.board().items()}
        await board.show(entries)

    dispatcher = Dispatcher(rides, commands, live, fleet, tick_s=TICK_S, on_tick=show)
    inbox = RideInbox(client, prefix, name, rides, InboxMetrics(metrics.registry))
    leader = AdvisoryLeader(url, leader_name(settings))
    lost = False

    async def watch(stop: asyncio.Event) -> None:
        nonlocal lost
        refreshed = 0.0
        loop = asyncio.get_running_loop()
        reported = loop.time()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LEASE_CHECK_S)
            if stop.is_set():
                return
            if not await leader.held():
                log.error("dispatcher %s: lost its hold on PostgreSQL; stopping", name)
                lost = True
                stop.set()
                return
            now = loop.time()
            if now - refreshed > REGISTRY_REFRESH_S:
                refreshed = now  # vehicles provisioned meanwhile join the fleet
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(registry.refresh)
            if now - reported > REPORT_EVERY_S:
                reported = now
                stats = dispatcher.stats
                log.info(
                    "dispatcher %s: ticks %d, calls %d, trips sent %d done %d failed %d, "
                    "picked up %d, completed %d, unplaced %d",
                    name,
                    stats.ticks,
                    inbox.handled,
                    stats.trips_sent,
                    stats.trips_done,
                    stats.trips_failed,
                    stats.picked_up,
                    stats.completed,
                    len(dispatcher.unplaced),
                )

    async def work(stop: asyncio.Event) -> None:
        try:
            # A standby is ready to serve but for the plans: it takes over in a second.
            await ride_store.open()
            await command_store.open()
            await asyncio.to_thread(engine.warm_up)
            log.info("dispatcher %s: waiting to be the active dispatcher", name)
            if not await leader.acquire(stop):
                return
            await asyncio.to_thread(registry.refresh)
            await inbox.open()
            await board.clear()
            found = await recover(
                dispatcher, fleet(), command_store.open_for_vehicles, commands.get
            )
            answered = await inbox.recover()
            log.info(
                "dispatcher %s: recovered %d open rides, %d trips in flight (%d not yet "
                "planned, %d offers expired), %d calls left pending",
                name,
                found.rides,
                found.trips,
                found.unplaced,
                found.expired,
                answered,
            )
            settle_heap()
            log.info("dispatcher %s: serving rides from redis %srides:calls", name, prefix)
            if ready is not None:
                ready()
            tasks = [
                asyncio.create_task(dispatcher.run(stop), name="dispatcher"),
                asyncio.create_task(inbox.run(stop), name="ride-calls"),
                asyncio.create_task(follower.run(stop), name="traffic"),
                asyncio.create_task(watch(stop), name="leader"),
            ]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            stop.set()  # one part ended (an error, or the stop): end them all
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            await leader.release()
            await traffic_store.close()
            await command_queue.close()
            await live.close()
            await client.aclose()
            await ride_store.close()
            await command_store.close()
        if lost:
            raise LostLeadership("another dispatcher may be active; start again to stand by")

    await _until_signalled(work)
