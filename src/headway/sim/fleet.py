"""The vehicle simulator: N shuttles, each its own MQTT client, speaking VDA 5050 v2.1.

One asyncio task ticks the whole fleet (about 5 Hz wall clock): it advances the pure
:class:`~headway.sim.model.FleetModel` by the elapsed simulated time, then publishes the
state of the vehicles whose turn it is. Turns are staggered over the state interval so
the broker sees an even load, and a vehicle whose state changed in an important way
(fault, e-stop, charging) publishes at once. A task per vehicle would cost a thousand
wake-ups per tick for nothing.

Links are reconciled each tick against the faults: a vehicle whose connection is lost
is aborted (the broker publishes its last will) and reconnected once the fault is over;
a link the broker dropped is retried with exponential backoff. ``package.md`` beside
this file explains the clocks and the threading model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import signal
from typing import get_args

import msgspec

from headway.contracts.vda5050 import (
    Error,
    instant_actions_decoder,
    order_decoder,
    topic,
)
from headway.sim.config import FaultRates, LinkFaults, SimConfig, VehicleSpec
from headway.sim.errors import LinkError
from headway.sim.faults import FaultKind
from headway.sim.link import CommandInbox, VehicleLink, quiet_gmqtt
from headway.sim.messages import HeaderIds, MessageFactory
from headway.sim.model import FleetModel
from headway.sim.roads import RoadMap, Router
from headway.sim.stats import SimStats

__all__ = [
    "FaultRates",
    "FleetSimulator",
    "LinkFaults",
    "SimConfig",
    "SimStats",
    "VehicleSpec",
    "run_sim",
]

_LOG = logging.getLogger(__name__)
_CONNECT_ATTEMPTS = 3
_MIN_OFFLINE_S = 0.5
"""Wall time a dropped link stays down, so the broker has noticed before it returns."""
_MAX_BACKOFF_S = 30.0
_CLOSE_TIMEOUT_S = 3.0
_REPORT_EVERY_S = 30.0


class FleetSimulator:
    def __init__(self, network: RoadMap, config: SimConfig, router: Router | None = None) -> None:
        if router is None:
            router = _default_router(network)
        self.config = config
        self.model = FleetModel(network, router, config)
        self.stats = SimStats(faults=self.model.faults_started)
        self.vehicle_ids = [vehicle.serial for vehicle in self.model.vehicles]
        self._messages = MessageFactory(self.model, config)
        self._index = {serial: i for i, serial in enumerate(self.vehicle_ids)}
        self._headers = [HeaderIds() for _ in self.vehicle_ids]
        maker = config.manufacturer
        self._state_topics = [topic(maker, s, "state") for s in self.vehicle_ids]
        self._vis_topics = [topic(maker, s, "visualization") for s in self.vehicle_ids]
        self._links = [
            VehicleLink(
                maker,
                s,
                config.mqtt_host,
                config.mqtt_port,
                config.keepalive_s,
                self._lost,
                config.mqtt_login,
            )
            for s in self.vehicle_ids
        ]
        self._next_state = [0.0] * len(self._links)
        self._next_vis = [0.0] * len(self._links)
        intervals = [config.tick_s, config.state_interval_s]
        if config.visualization_interval_s > 0:
            intervals.append(config.visualization_interval_s)
        self._tick_s = min(intervals)
        self._ticker: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self.link_faults = config.link_faults
        """Trouble on every vehicle's radio link; change it at any time (``impair``)."""
        self._link_rng = random.Random(f"{config.seed}/link")
        self._inbox: CommandInbox | None = None
        if config.commands:
            self._inbox = CommandInbox(
                maker, config.mqtt_host, config.mqtt_port, self._on_command, config.mqtt_login
            )

    async def start(self) -> None:
        """Connect every vehicle, in concurrent batches; returns once all are ONLINE."""
        quiet_gmqtt()
        indices = range(len(self._links))
        if self._inbox is not None:
            await self._inbox.start(self.config.connect_timeout_s)
        try:
            for first in range(0, len(indices), self.config.connect_batch):
                batch = indices[first : first + self.config.connect_batch]
                results = await asyncio.gather(
                    *(self._connect_initially(i) for i in batch), return_exceptions=True
                )
                failures = [r for r in results if isinstance(r, BaseException)]
                if failures:
                    raise failures[0]
        except BaseException:
            for link in self._links:
                link.abort()
            if self._inbox is not None:
                await self._inbox.stop(_CLOSE_TIMEOUT_S)
            raise
        loop = asyncio.get_running_loop()
        now = loop.time()
        count = len(self._links)
        for i in indices:
            phase = i / count
            self._next_state[i] = now + self.config.state_interval_s * phase
            self._next_vis[i] = now + self.config.visualization_interval_s * phase
        self._ticker = asyncio.create_task(self._run(), name="headway-sim-tick")

    async def stop(self) -> None:
        """Publish OFFLINE and disconnect every vehicle; no reconnect survives it."""
        ticker, self._ticker = self._ticker, None
        tasks = [*self._pending, *([ticker] if ticker is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pending.clear()
        for first in range(0, len(self._links), self.config.connect_batch):
            batch = self._links[first : first + self.config.connect_batch]
            await asyncio.gather(*(self._close(link) for link in batch))
        if self._inbox is not None:
            await self._inbox.stop(_CLOSE_TIMEOUT_S)

    async def run_until(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()

    def inject(
        self,
        serial: str,
        fault: FaultKind,
        duration_s: float | None = None,
    ) -> None:
        """Start a fault now on one vehicle, for ``duration_s`` simulated seconds.

        Without a duration the fault lasts until ``inject(serial, "clear")``. The
        vehicle publishes its state at once (unless the fault silences it).
        """
        index = self._index.get(serial)
        if index is None:
            raise KeyError(
                f"no vehicle {serial!r}: serials run from v0001 to {self.vehicle_ids[-1]}"
            )
        if fault not in get_args(FaultKind):
            raise ValueError(f"unknown fault {fault!r}; expected one of {get_args(FaultKind)}")
        vehicle = self.model.vehicles[index]
        self.model.start_fault(vehicle, fault, math.inf if duration_s is None else duration_s)
        if fault == "connection_lost":
            self._drop(index)
        elif not vehicle.faults.silent:
            self._publish_state(index)

    def impair(self, faults: LinkFaults) -> None:
        """From now on, drop, duplicate and delay messages on every vehicle's link."""
        self.link_faults = faults

    def applied(self, serial: str) -> list[str]:
        """What took effect on a vehicle, in order (``order:<id>:<update>``,
        ``action:<id>``): each resend of a command must leave it unchanged."""
        return list(self.model.vehicles[self._index[serial]].applied)

    def _on_command(self, serial: str, name: str, payload: bytes) -> None:
        index = self._index.get(serial)
        if index is None or name not in ("order", "instantActions"):
            return
        if not self._links[index].up or self.model.vehicles[index].faults.silent:
            self.stats.commands_missed += 1
            return
        faults, rng = self.link_faults, self._link_rng
        if faults.any:
            if rng.random() < faults.drop_in:
                self.stats.injected["drop_in"] += 1
                return
            copies = 1
            if rng.random() < faults.duplicate:
                self.stats.injected["duplicate"] += 1
                copies = 2
            for _ in range(copies):
                if rng.random() < faults.delay:
                    self.stats.injected["delay"] += 1
                    wait = rng.uniform(*faults.delay_s)
                    asyncio.get_running_loop().call_later(wait, self._deliver, index, name, payload)
                else:
                    self._deliver(index, name, payload)
            return
        self._deliver(index, name, payload)

    def _deliver(self, index: int, name: str, payload: bytes) -> None:
        vehicle = self.model.vehicles[index]
        if not self._links[index].up or vehicle.faults.silent:
            self.stats.commands_missed += 1
            return
        self.stats.commands_received[name] += 1
        executor = self.model.orders
        try:
            if name == "order":
                changed = executor.receive_order(vehicle, order_decoder.decode(payload))
            else:
                actions = instant_actions_decoder.decode(payload).actions
                changed = executor.receive_instant(vehicle, actions)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            error = Error(
                error_type="validationError",
                error_level="WARNING",
                error_description=f"{name} message refused: {exc}"[:300],
            )
            vehicle.order_errors = [*vehicle.order_errors, error][-8:]
            changed = True
        if changed:
            # VDA 5050: a vehicle reports its state at once when it receives an order.
            self._publish_state(index)

    async def _connect_initially(self, index: int) -> None:
        link = self._links[index]
        for attempt in range(_CONNECT_ATTEMPTS):
            try:
                await self._connect(index)
                return
            except LinkError:
                self.stats.connect_failures += 1
                if attempt == _CONNECT_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)
        raise AssertionError(f"unreachable: {link.serial}")

    async def _connect(self, index: int) -> None:
        """(Re)connect one vehicle, then publish ONLINE and its factsheet, retained."""
        serial, headers, link = self.vehicle_ids[index], self._headers[index], self._links[index]
        online_id = headers.next("connection")
        will_id = headers.next("connection")
        will = self._messages.connection(serial, will_id, "CONNECTIONBROKEN")
        await link.connect(will, self.config.connect_timeout_s)
        self.stats.connects += 1
        online = self._messages.connection(serial, online_id, "ONLINE")
        self._count("connection", link.publish(link.connection_topic, online, qos=1, retain=True))
        factsheet = self._messages.factsheet(serial, headers.next("factsheet"))
        factsheet_topic = topic(self.config.manufacturer, serial, "factsheet")
        self._count("factsheet", link.publish(factsheet_topic, factsheet, qos=1, retain=True))
        self.model.vehicles[index].urgent = True

    async def _reconnect(self, index: int) -> None:
        link = self._links[index]
        try:
            await self._connect(index)
            self.stats.reconnects += 1
        except LinkError as exc:
            self.stats.connect_failures += 1
            link.retry_at = asyncio.get_running_loop().time() + _backoff(link.failures)
            _LOG.debug("reconnect failed: %s", exc)

    async def _close(self, link: VehicleLink) -> None:
        if not link.up:
            return
        index = self._index[link.serial]
        offline = self._messages.connection(
            link.serial, self._headers[index].next("connection"), "OFFLINE"
        )
        await link.close(offline, _CLOSE_TIMEOUT_S)
        self._count("connection", True)

    def _drop(self, index: int) -> None:
        link = self._links[index]
        link.abort()
        link.retry_at = asyncio.get_running_loop().time() + _MIN_OFFLINE_S

    def _lost(self, link: VehicleLink) -> None:
        self.stats.connections_lost += 1
        link.failures += 1
        link.retry_at = asyncio.get_running_loop().time() + _backoff(link.failures)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        tick = self._tick_s
        last = loop.time()
        due = last + tick
        while True:
            await asyncio.sleep(max(due - loop.time(), 0.0))
            now = loop.time()
            elapsed, last = min(now - last, 10.0 * tick), now
            due += tick
            if due < now:
                self.stats.late_ticks += 1
                due = now + tick
            try:
                self._tick(now, elapsed * self.config.speedup)
            except Exception:
                self.stats.tick_errors += 1
                _LOG.exception("simulator tick failed; carrying on with the next one")

    def _tick(self, now: float, dt: float) -> None:
        self.model.advance(dt)
        self.stats.ticks += 1
        state_every = self.config.state_interval_s
        vis_every = self.config.visualization_interval_s
        next_state, next_vis = self._next_state, self._next_vis
        for index, vehicle in enumerate(self.model.vehicles):
            link = self._links[index]
            faults = vehicle.faults
            if faults.link_down:
                if link.up:
                    self._drop(index)
                continue
            if not link.up:
                if not link.connecting and now >= link.retry_at:
                    self._spawn_reconnect(index)
                continue
            if faults.radio_silence_left > 0.0:
                continue
            if vehicle.urgent or now >= next_state[index]:
                self._publish_state(index)
                if now >= next_state[index]:
                    next_state[index] = _next_due(next_state[index], state_every, now)
            if vis_every > 0.0 and now >= next_vis[index]:
                self._publish_visualization(index)
                next_vis[index] = _next_due(next_vis[index], vis_every, now)

    def _spawn_reconnect(self, index: int) -> None:
        self._links[index].connecting = True
        task = asyncio.create_task(self._reconnect(index))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _publish_state(self, index: int) -> None:
        vehicle = self.model.vehicles[index]
        vehicle.urgent = False
        payload = self._messages.state(vehicle, self._headers[index].next("state"))
        faults, rng = self.link_faults, self._link_rng
        if faults.any:
            if rng.random() < faults.drop_out:
                self.stats.injected["drop_out"] += 1
                return
            if rng.random() < faults.duplicate:
                self.stats.injected["duplicate"] += 1
                self._send_state(index, payload)
            if rng.random() < faults.delay:
                self.stats.injected["delay"] += 1
                wait = rng.uniform(*faults.delay_s)
                asyncio.get_running_loop().call_later(wait, self._send_state, index, payload)
                return
        self._send_state(index, payload)

    def _send_state(self, index: int, payload: bytes) -> None:
        self._count("state", self._links[index].publish(self._state_topics[index], payload))

    def _publish_visualization(self, index: int) -> None:
        vehicle = self.model.vehicles[index]
        payload = self._messages.visualization(vehicle, self._headers[index].next("visualization"))
        self._count("visualization", self._links[index].publish(self._vis_topics[index], payload))

    def _count(self, name: str, sent: bool) -> None:
        if sent:
            self.stats.published[name] += 1
        else:
            self.stats.dropped[name] += 1

    def links_up(self) -> int:
        return sum(1 for link in self._links if link.up)


async def run_sim(network: RoadMap, config: SimConfig, duration_s: float | None) -> SimStats:
    """Connect the fleet, run it for ``duration_s`` wall seconds (None: until SIGINT or
    SIGTERM), disconnect cleanly and return the counters."""
    simulator = FleetSimulator(network, config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Only the main thread of a Unix event loop can take signals; elsewhere the
        # caller stops the run by cancelling it.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    timer = loop.call_later(duration_s, stop.set) if duration_s is not None else None
    reporter = asyncio.create_task(_report(simulator))
    try:
        _LOG.info(
            "connecting %d vehicles to %s:%d", config.vehicles, config.mqtt_host, config.mqtt_port
        )
        await simulator.run_until(stop)
    finally:
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
        if timer is not None:
            timer.cancel()
        for sig in handled:
            loop.remove_signal_handler(sig)
    _LOG.info("simulator stopped: %s", simulator.stats.summary())
    return simulator.stats


async def _report(simulator: FleetSimulator) -> None:
    while True:
        await asyncio.sleep(_REPORT_EVERY_S)
        _LOG.info(
            "%d/%d vehicles online; %s",
            simulator.links_up(),
            len(simulator.vehicle_ids),
            simulator.stats.summary(),
        )


def _default_router(network: RoadMap) -> Router:
    from headway.network.graph import RoadNetwork
    from headway.network.routing import DijkstraRouter

    if not isinstance(network, RoadNetwork):
        raise TypeError("pass a router along with a road map that is not a RoadNetwork")
    return DijkstraRouter(network)


def _next_due(due: float, every: float, now: float) -> float:
    """Keep the vehicle's phase; after a gap (silence, stall) start again from now."""
    due += every
    return due if due > now else now + every


def _backoff(failures: int) -> float:
    return min(_MIN_OFFLINE_S * 2.0 ** max(failures - 1, 0), _MAX_BACKOFF_S)
