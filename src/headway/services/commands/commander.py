"""The commander: carries every queued command to the vehicle and tracks it to its end.

Two loops share one process:

* the **sender** takes entries from the command queue and holds them (pending, not
  acknowledged to the queue) until their command has ended. For each vehicle with held
  commands it asks ``scheduling.plan_vehicle`` what may go now, and sends: the record is
  saved as ``sent`` *before* the message is published, so a crash in between causes a
  resend, never a send the record does not know of. Retries back off with jitter; a
  circuit breaker per vehicle stops sends to a vehicle that does not answer.
* the **tracker** consumes vehicle states from the event log in its own consumer group
  and moves the vehicle's open commands on (``tracking.observe``), committing its
  offsets only after the records are saved.

Records are the only shared truth: every save is compare-and-set on the record's
version, so senders and trackers in different processes never undo each other's moves.
Nothing is applied twice on a vehicle because a resend carries the same ``orderId`` and
``orderUpdateId`` or the same ``actionId``, which VDA 5050 vehicles ignore when they
already hold them. ``docs/commands.md`` is the design note.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import os
import random
import socket
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import msgspec

from headway.contracts.events import (
    TELEMETRY_TOPIC,
    DeadLetter,
    Progress,
    Telemetry,
    event_decoder,
)
from headway.contracts.vda5050 import (
    InstantActions,
    Order,
    encoder,
    instant_actions_decoder,
    order_decoder,
    timestamp_now,
)
from headway.domain.commands import (
    INSTANT_KINDS,
    UNACKNOWLEDGED,
    Command,
    CommandKind,
    CommandStatus,
    OrderPlan,
    transition,
)
from headway.domain.vehicles import VehicleStatus
from headway.services.commands.breaker import BreakerPolicy, Breakers, BreakerState
from headway.services.commands.errors import NotTranslatable
from headway.services.commands.scheduling import Do, RetryPolicy, Step, plan_vehicle
from headway.services.commands.tracking import VehicleReport, observe
from headway.services.commands.translate import Position, Translator
from headway.services.metrics import Metrics
from headway.services.ports import (
    CommandLink,
    CommandQueue,
    CommandStore,
    DeadLetters,
    EventConsumer,
    EventLog,
    LinkDown,
    LiveState,
    QueueEntry,
    StaleCommand,
)

log = logging.getLogger(__name__)
_ACKNOWLEDGED = frozenset({CommandStatus.ACKNOWLEDGED, CommandStatus.RUNNING})
_LATE = "the vehicle took it over after it expired"
_CHECKED_PER_VEHICLE = 256
_QUIET_FOR_S = 2.0
_FIRST_BACKOFF_S = 0.1
_MAX_BACKOFF_S = 5.0


def default_name() -> str:
    return f"commander-{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class CommanderConfig:
    name: str = field(default_factory=default_name)
    """Consumer name in the queue; a restarted commander with the same name picks up
    its own pending entries at once, another one claims them after ``reclaim_idle_s``."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    group: str = "commander"
    telemetry_topic: str = TELEMETRY_TOPIC
    batch: int = 500
    take_block_s: float = 0.05
    recheck_s: float = 0.5
    """How often commands waiting on others (maybe held elsewhere) are looked at again."""
    touch_every_s: float = 5.0
    reclaim_every_s: float = 5.0
    reclaim_idle_s: float = 30.0
    sweep_every_s: float = 10.0
    stale_after_s: float = 60.0
    silent_after_s: float = 300.0
    """An acknowledged command (the tracker carries it on from the vehicle's reports)
    fails when its vehicle has been offline and silent this long; 0: never."""
    position_max_age_s: float = 5.0
    """A new order is built only from a position reported this recently (by an ONLINE
    vehicle): the order starts where the vehicle is, and a vehicle that moved on while
    out of reach would refuse it (noRouteError)."""
    seed: int | None = None


@dataclass
class CommanderStats:
    sends: int = 0
    retries: int = 0
    link_failures: int = 0
    reports: int = 0
    conflicts: int = 0
    requeued: int = 0
    reclaimed: int = 0
    loop_errors: int = 0
    invalid: int = 0
    """Commands whose stored VDA 5050 message is invalid: failed, never sent."""
    silenced: int = 0
    late: int = 0
    quiet_reports: int = 0
    """States that repeated one that moved nothing, so the records were not read."""
    """Expired commands that their vehicle took over after all (noted, not undone)."""
    """Acknowledged commands failed because their vehicle went silent."""
    ended: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Commander:
    def __init__(
        self,
        store: CommandStore,
        queue: CommandQueue,
        link: CommandLink,
        log_: EventLog,
        live: LiveState,
        translator: Translator,
        dead_letters: DeadLetters,
        metrics: Metrics,
        config: CommanderConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config or CommanderConfig()
        self._store = store
        self._queue = queue
        self._link = link
        self._log = log_
        self._live = live
        self._translator = translator
        self._dead = dead_letters
        self._metrics = metrics
        self._clock = clock
        self._rng = random.Random(self.config.seed)
        self.breakers = Breakers(self.config.breaker, self._breaker_changed)
        self.breaker_log: deque[tuple[float, str, BreakerState]] = deque(maxlen=10_000)
        """The latest breaker transitions: (time, vehicle, new state)."""
        self.stats = CommanderStats()
        self._held: dict[str, QueueEntry] = {}
        self._by_vehicle: dict[str, set[str]] = defaultdict(set)
        self._dirty: set[str] = set()
        self._timers: list[tuple[float, str]] = []
        self._wake_at: dict[str, float] = {}
        self._awaiting: dict[str, tuple[str, float]] = {}
        """Command id to (vehicle, end of its ack window) for the attempt in flight."""
        self._headers: dict[tuple[str, str], int] = defaultdict(int)
        self._spare: list[str] = []
        self._next: dict[str, float] = {}
        """When each periodic chore of the send loop is due next."""
        """Entries of commands held twice, to acknowledge at the next turn."""
        self._ended_here: set[str] = set()
        self._checked: dict[str, set[str]] = defaultdict(set)
        self._quiet: dict[str, tuple[tuple[str, bool, Progress], float]] = {}
        """Per vehicle, a report that moved no command, and when it was read."""
        """Per vehicle, ids it reported that were looked up for a late takeover."""
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    @property
    def held(self) -> int:
        return len(self._held)

    async def run(self, stop: asyncio.Event) -> None:
        """Send and track until ``stop`` is set. Cancelling the task stops it abruptly,
        as a crash would: what it held is claimed again after a restart."""
        self._running = True
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._send_loop(stop), name=f"{self.config.name}-send")
                group.create_task(self._track_loop(stop), name=f"{self.config.name}-track")
        finally:
            self._running = False

    def poke(self, vehicle_id: str) -> None:
        """Look at this vehicle's commands at the next turn of the send loop."""
        self._dirty.add(vehicle_id)

    # ---------------------------------------------------------------- sender

    async def _send_loop(self, stop: asyncio.Event) -> None:
        """Rounds of sending until stopped; a failing adapter (Redis, the database) is
        logged, counted and waited out with backoff, never fatal."""
        recovered = False
        delay = _FIRST_BACKOFF_S
        now = self._clock()
        self._next = {"touch": now + self.config.touch_every_s, "reclaim": now, "sweep": now}
        self._next["recheck"] = now + self.config.recheck_s
        while not stop.is_set():
            _raise_if_cancelled()
            try:
                if not recovered:
                    for entry in await self._queue.pending(self.config.name):
                        self._hold(entry)
                    recovered = True
                await self._send_round()
                delay = _FIRST_BACKOFF_S
            except Exception as exc:
                self.stats.loop_errors += 1
                log.error("commander send round failed (%s); again in %.1f s", exc, delay)
                self._dirty.update(self._by_vehicle)
                await asyncio.sleep(delay)
                delay = min(delay * 2.0, _MAX_BACKOFF_S)

    async def _send_round(self) -> None:
        config, due = self.config, self._next
        wait = config.take_block_s
        if self._timers:
            wait = max(min(wait, self._timers[0][0] - self._clock()), 0.0)
        if self._dirty:
            wait = 0.0
            # In-memory adapters answer without suspending: let the tracker and the rest
            # of the process have their turn before the next round of work.
            await asyncio.sleep(0)
        for entry in await self._queue.take(config.name, config.batch, wait):
            self._hold(entry)
        now = self._clock()
        if now >= due["reclaim"]:
            due["reclaim"] = now + config.reclaim_every_s
            claimed = await self._queue.reclaim(config.name, config.reclaim_idle_s, config.batch)
            for entry in claimed:
                self.stats.reclaimed += 1
                self._hold(entry)
        if now >= due["touch"]:
            due["touch"] = now + config.touch_every_s
            await self._queue.touch(config.name, [e.entry_id for e in self._held.values()])
        if now >= due["recheck"]:
            due["recheck"] = now + config.recheck_s
            self._dirty.update(self._by_vehicle)
        while self._timers and self._timers[0][0] <= now:
            _, vehicle_id = heapq.heappop(self._timers)
            if self._wake_at.get(vehicle_id, now) <= now:
                self._wake_at.pop(vehicle_id, None)
            self._dirty.add(vehicle_id)
        if self._dirty:
            vehicles, self._dirty = self._dirty, set()
            await self._process(vehicles)
        if now >= due["sweep"]:
            due["sweep"] = now + config.sweep_every_s
            await self._sweep(now)
        self._metrics.commands_in_flight.set(len(self._held))

    def _hold(self, entry: QueueEntry) -> None:
        known = self._held.get(entry.command_id)
        if known is not None and known.entry_id != entry.entry_id:
            # The same command queued twice (sweeper, idempotent retry): one entry is enough.
            self._spare.append(entry.entry_id)
            return
        self._held[entry.command_id] = entry
        self._by_vehicle[entry.vehicle_id].add(entry.command_id)
        self._dirty.add(entry.vehicle_id)

    async def _process(self, vehicles: Iterable[str]) -> None:
        ids = [v for v in vehicles if v in self._by_vehicle]
        if not ids:
            return
        found = await self._store.open_for_vehicles(ids)
        done_entries: list[str] = self._spare
        self._spare = []
        for vehicle_id in ids:
            commands = found.get(vehicle_id, [])
            done_entries += self._release_ended(vehicle_id, commands)
            if vehicle_id in self._by_vehicle:
                await self._drive_vehicle(vehicle_id, commands)
            for command_id in list(self._by_vehicle.get(vehicle_id, ())):
                entry = self._held.get(command_id)
                if entry is not None and command_id in self._ended_here:
                    done_entries.append(entry.entry_id)
                    self._release(command_id)
        self._ended_here.clear()
        if done_entries:
            await self._queue.ack(done_entries)

    def _release_ended(self, vehicle_id: str, commands: list[Command]) -> list[str]:
        """Learn from the records how the vehicle answered, and return the entries of
        held commands that need no more sending (acknowledged or ended)."""
        now = self._clock()
        by_id = {c.id: c for c in commands}
        for command_id, (owner, window_end) in list(self._awaiting.items()):
            if owner != vehicle_id:
                continue
            command = by_id.get(command_id)
            if command is None or command.status not in UNACKNOWLEDGED:
                # Answered: the vehicle is reachable.
                del self._awaiting[command_id]
                self.breakers.success(vehicle_id)
            elif now >= window_end:
                del self._awaiting[command_id]
                self.breakers.failure(vehicle_id, now)
        waiting = {c.id for c in commands if c.status in UNACKNOWLEDGED}
        released: list[str] = []
        for command_id in list(self._by_vehicle.get(vehicle_id, ())):
            if command_id not in waiting:
                # Acknowledged or ended: the tracker carries it on from here.
                released.append(self._held[command_id].entry_id)
                self._release(command_id)
                command = by_id.get(command_id)
                if command is not None and (
                    command.at(CommandStatus.ACKNOWLEDGED) is not None
                    or command.at(CommandStatus.REJECTED) is not None
                ):
                    # Answered after its wait ran out, seen by another commander's
                    # tracker: the vehicle is reachable all the same.
                    self.breakers.success(vehicle_id)
        return released

    def _release(self, command_id: str) -> None:
        entry = self._held.pop(command_id, None)
        if entry is None:
            return
        bucket = self._by_vehicle.get(entry.vehicle_id)
        if bucket is not None:
            bucket.discard(command_id)
            if not bucket:
                del self._by_vehicle[entry.vehicle_id]
        self._awaiting.pop(command_id, None)

    async def _drive_vehicle(self, vehicle_id: str, commands: list[Command]) -> None:
        now = self._clock()
        held = self._by_vehicle.get(vehicle_id, set())
        may_send = self.breakers.allows(vehicle_id, now)
        plan = plan_vehicle(commands, now, held, may_send, self.config.retry)
        wake = plan.wake_at
        breaker = self.breakers.of(vehicle_id)
        if breaker.state is BreakerState.OPEN:
            wake = breaker.open_until if wake is None else min(wake, breaker.open_until)
        for step in plan.steps:
            await self._apply(step, now)
        if wake is not None:
            scheduled = self._wake_at.get(vehicle_id)
            if scheduled is None or wake < scheduled or scheduled <= now:
                self._wake_at[vehicle_id] = wake
                heapq.heappush(self._timers, (wake, vehicle_id))

    async def _apply(self, step: Step, now: float) -> None:
        command = step.command
        if step.do is Do.SEND:
            await self._send(command, now)
        elif step.do is Do.EXPIRE:
            await self._end(command, CommandStatus.EXPIRED, now, step.note)
        else:
            await self._end(command, CommandStatus.CANCELLED, now, step.note)

    async def _send(self, command: Command, now: float) -> None:
        vehicle_id = command.vehicle_id
        if not self.breakers.allows(vehicle_id, now):
            return
        # Built once, then sent again exactly as built: an update is stitched onto the
        # sequence ids the vehicle holds, so the order it extends must never change.
        first = not command.message
        try:
            ready = await self._materialise(command) if first else command
        except NotTranslatable as exc:
            await self._end(command, CommandStatus.FAILED, now, str(exc))
            return
        if ready is None:
            return
        message = "instantActions" if ready.kind in INSTANT_KINDS else "order"
        try:
            payload = self._stamp(ready, message)
        except msgspec.MsgspecError as exc:
            # A record no vehicle could accept (written by another version, edited by
            # hand): it fails with the reason, and the round goes on with the others.
            self.stats.invalid += 1
            await self._end(command, CommandStatus.FAILED, now, f"invalid {message}: {exc}")
            return
        attempts = command.attempts + 1
        delay = self.config.retry.delay(attempts, self._rng)
        moved = transition(
            ready,
            CommandStatus.SENT,
            now,
            attempts=attempts,
            next_attempt_at=now + delay,
        )
        try:
            saved = await self._store.save(moved)
        except StaleCommand:
            self.stats.conflicts += 1
            self._dirty.add(vehicle_id)
            return
        try:
            await self._link.send(saved.manufacturer, vehicle_id, message, payload)
        except LinkDown:
            self.stats.link_failures += 1
            self._metrics.command_send_failures.inc()
            return
        self.breakers.sent(vehicle_id)
        self._awaiting[saved.id] = (vehicle_id, saved.next_attempt_at)
        self.stats.sends += 1
        if attempts > 1:
            self.stats.retries += 1
        self._metrics.command_sends.labels("first" if attempts == 1 else "retry").inc()

    async def _materialise(self, command: Command) -> Command | None:
        """The command with its VDA 5050 message built; None if it cannot be built yet."""
        if command.kind in INSTANT_KINDS:
            return replace(command, message=encoder.encode(self._translator.instant(command)))
        if command.kind is CommandKind.UPDATE:
            return await self._materialise_update(command)
        state = await self._live.get(command.vehicle_id)
        if (
            state is None
            or state.connection != "ONLINE"
            or self._clock() - state.last_seen > self.config.position_max_age_s
        ):
            return None
        order, plan = self._translator.new_order(
            command, Position(state.last_node_id, state.x, state.y)
        )
        return _with_message(command, encoder.encode(order), plan, order.order_update_id)

    async def _materialise_update(self, command: Command) -> Command | None:
        base = await self._store.get(command.params.order_command_id)
        if base is None or base.plan is None:
            raise NotTranslatable("the order it updates was never sent to the vehicle")
        if base.status in (CommandStatus.REJECTED, CommandStatus.EXPIRED):
            raise NotTranslatable(f"the order it updates ended {base.status}")
        chain = [base]
        for other in await self._store.query(
            vehicle_id=command.vehicle_id, kind=CommandKind.UPDATE, limit=1000
        ):
            if (
                other.id != command.id
                and other.params.order_command_id == base.id
                and other.plan is not None
            ):
                chain.append(other)
        taken = [c for c in chain if c.status is not CommandStatus.REJECTED]
        previous = max(taken, key=lambda c: c.order_update_id)
        assert previous.plan is not None
        update_id = max(c.order_update_id for c in chain) + 1
        order, plan = self._translator.update(command, base.order_id, update_id, previous.plan)
        return _with_message(command, encoder.encode(order), plan, update_id)

    def _stamp(self, command: Command, message: str) -> bytes:
        """The stored message with this send's headerId and timestamp."""
        key = (command.vehicle_id, message)
        header_id = self._headers[key]
        self._headers[key] = header_id + 1
        stamped: Order | InstantActions
        if message == "order":
            stamped = order_decoder.decode(command.message)
        else:
            stamped = instant_actions_decoder.decode(command.message)
        stamped.header_id = header_id
        stamped.timestamp = timestamp_now()
        return encoder.encode(stamped)

    async def _end(self, command: Command, status: CommandStatus, now: float, note: str) -> None:
        self._awaiting.pop(command.id, None)
        try:
            saved = await self._store.save(transition(command, status, now, note))
        except StaleCommand:
            self.stats.conflicts += 1
            self._dirty.add(command.vehicle_id)
            return
        self._ended(saved, now)
        self._ended_here.add(saved.id)

    def _ended(self, command: Command, now: float) -> None:
        self.stats.ended[command.status.value] += 1
        self._metrics.commands_ended.labels(command.status.value).inc()
        if command.status in (
            CommandStatus.EXPIRED,
            CommandStatus.REJECTED,
            CommandStatus.FAILED,
        ):
            self._metrics.dead_letters.labels("command", command.status.value).inc()
            self._dead.add(
                DeadLetter(
                    source="command",
                    reason=command.status.value,
                    detail=f"{command.kind} for {command.vehicle_id}: {command.reason}"[:500],
                    received_at=now,
                    key=command.id,
                )
            )

    async def _sweep(self, now: float) -> None:
        """Queue again what no one seems to be working on (a lost queue entry), and end
        acknowledged commands whose vehicle has gone silent."""
        stale = await self._store.stale(
            now - self.config.stale_after_s, self.config.batch, statuses=UNACKNOWLEDGED
        )
        for command in stale:
            if command.id in self._held:
                continue
            await self._queue.put(command.vehicle_id, command.id)
            self.stats.requeued += 1
        if self.config.silent_after_s > 0:
            await self._end_silent(now)

    async def _end_silent(self, now: float) -> None:
        """An acknowledged command has no deadline of its own (a journey takes as long as
        it takes), but its vehicle must keep reporting: once the vehicle has been offline
        (last will, or silent past the processor's offline limit) for ``silent_after_s``,
        the command fails with the reason. A vehicle whose live state is merely old but
        not offline (a processor that is down) is left alone: the platform's trouble is
        not the vehicle's."""
        limit = self.config.silent_after_s
        candidates = await self._store.stale(now - limit, self.config.batch, statuses=_ACKNOWLEDGED)
        if not candidates:
            return
        vehicles = sorted({c.vehicle_id for c in candidates})
        states = dict(zip(vehicles, await self._live.get_many(vehicles), strict=True))
        for command in candidates:
            state = states[command.vehicle_id]
            if state is None or state.status is not VehicleStatus.OFFLINE:
                continue
            silent_s = now - state.last_seen
            if silent_s < limit:
                continue
            note = (
                f"vehicle silent for {silent_s:.0f} s after it took the command over "
                f"(limit {limit:g} s); its progress is unknown"
            )
            try:
                saved = await self._store.save(transition(command, CommandStatus.FAILED, now, note))
            except StaleCommand:
                self.stats.conflicts += 1  # its vehicle spoke, or another commander ended it
                continue
            self.stats.silenced += 1
            self._ended(saved, now)

    def _breaker_changed(self, vehicle_id: str, state: BreakerState) -> None:
        self.breaker_log.append((self._clock(), vehicle_id, state))
        self._metrics.command_breaker_transitions.labels(state.value).inc()
        counts = self.breakers.counts()
        self._metrics.command_breakers_open.set(
            counts[BreakerState.OPEN] + counts[BreakerState.HALF_OPEN]
        )
        log.info("circuit breaker of %s is now %s", vehicle_id, state.value)

    # ---------------------------------------------------------------- tracker

    async def _track_loop(self, stop: asyncio.Event) -> None:
        """Read states until stopped. After a failure the consumer is replaced, so the
        batch that failed is read again from the last commit."""
        delay = _FIRST_BACKOFF_S
        while not stop.is_set():
            consumer = self._log.consumer(self.config.group, [self.config.telemetry_topic])
            try:
                while not stop.is_set():
                    _raise_if_cancelled()
                    await self._track_round(consumer)
                    delay = _FIRST_BACKOFF_S
            except Exception as exc:
                self.stats.loop_errors += 1
                log.error("commander track round failed (%s); again in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2.0, _MAX_BACKOFF_S)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.close()

    async def _track_round(self, consumer: EventConsumer) -> None:
        records = await consumer.poll(4 * self.config.batch, self.config.take_block_s)
        if not records:
            return
        reports: dict[str, list[VehicleReport]] = defaultdict(list)
        for record in records:
            try:
                event = event_decoder.decode(record.value)
            except msgspec.DecodeError:
                continue
            if isinstance(event, Telemetry) and event.progress is not None:
                reports[event.vehicle_id].append(
                    VehicleReport(
                        event.vehicle_id,
                        event.received_at,
                        event.order_id,
                        event.driving,
                        event.progress,
                    )
                )
        if reports:
            self.stats.reports += sum(len(r) for r in reports.values())
            now = self._clock()
            news = {v: r for v, r in reports.items() if not self._nothing_new(v, r, now)}
            self.stats.quiet_reports += sum(len(r) for v, r in reports.items() if v not in news)
            found = await self._store.open_for_vehicles(list(news)) if news else {}
            for vehicle_id, vehicle_reports in news.items():
                commands = found.get(vehicle_id, [])
                moved = bool(commands) and await self._track(vehicle_id, commands, vehicle_reports)
                await self._notice_late(vehicle_id, commands, vehicle_reports[-1])
                last = vehicle_reports[-1]
                if moved:
                    self._quiet.pop(vehicle_id, None)
                else:
                    self._quiet[vehicle_id] = ((last.order_id, last.driving, last.progress), now)
        await consumer.commit()
        await asyncio.sleep(0)

    def _nothing_new(self, vehicle_id: str, reports: list[VehicleReport], now: float) -> bool:
        """Whether every report says what the vehicle's last one said, and that moved no
        command: a vehicle repeats its order and action states every second long after
        its commands ended, and reading its open commands again would learn nothing. A
        command the vehicle newly takes over changes what it reports. Looked at again
        every ``_QUIET_FOR_S`` all the same."""
        known = self._quiet.get(vehicle_id)
        if known is None or now - known[1] > _QUIET_FOR_S:
            return False
        said = known[0]
        return all((r.order_id, r.driving, r.progress) == said for r in reports)

    async def _notice_late(
        self, vehicle_id: str, open_: list[Command], report: VehicleReport
    ) -> None:
        """A vehicle that reports an order or an instant action whose command had expired
        took it over after all (its acknowledgement came later than the grace window).
        The record stays ``expired`` (statuses only move forward) but says so in its
        reason, and a dead letter (``taken_over_after_expiry``) tells the operator, who
        can cancel it. Each id is looked up once per commander."""
        mine = {c.order_id for c in open_ if c.new_order} | {
            c.action_id for c in open_ if c.kind in INSTANT_KINDS
        }
        ids = {a.action_id for a in report.progress.actions if "." not in a.action_id}
        if report.order_id:
            ids.add(report.order_id)
        checked = self._checked[vehicle_id]
        for command_id in sorted(ids - mine - checked):
            if len(checked) >= _CHECKED_PER_VEHICLE:
                checked.clear()
            checked.add(command_id)
            command = await self._store.get(command_id)
            if (
                command is None
                or command.vehicle_id != vehicle_id
                or command.status is not CommandStatus.EXPIRED
                or _LATE in command.reason
            ):
                continue
            note = f"{command.reason}; {_LATE} at {report.at:.3f}"
            try:
                await self._store.save(replace(command, reason=note))
            except StaleCommand:
                continue
            self.stats.late += 1
            self._metrics.dead_letters.labels("command", "taken_over_after_expiry").inc()
            self._dead.add(
                DeadLetter(
                    source="command",
                    reason="taken_over_after_expiry",
                    detail=f"{command.kind} for {vehicle_id}: {note}"[:500],
                    received_at=report.at,
                    key=command.id,
                )
            )
            log.warning("%s of %s was taken over after it expired", command.id, vehicle_id)

    async def _track(
        self, vehicle_id: str, commands: list[Command], reports: Sequence[VehicleReport]
    ) -> bool:
        """Apply the reports in order; whether any command moved (or a save conflicted)."""
        moved = False
        for report in reports:
            for _ in range(5):
                try:
                    before = commands
                    commands = await self._apply_report(commands, report)
                    moved = moved or commands is not before
                    break
                except StaleCommand:
                    moved = True
                    self.stats.conflicts += 1
                    found = await self._store.open_for_vehicles([vehicle_id])
                    commands = found.get(vehicle_id, [])
            if not commands:
                return True
        return moved

    async def _apply_report(self, commands: list[Command], report: VehicleReport) -> list[Command]:
        """The vehicle's open commands after ``report``: the same list if none moved."""
        changed = observe(commands, report)
        if not changed:
            return commands
        by_id = {c.id: c for c in commands}
        for command in changed:
            saved = await self._store.save(command)
            by_id[saved.id] = saved
            previous = next(c for c in commands if c.id == saved.id)
            if previous.status in UNACKNOWLEDGED:
                accepted = saved.at(CommandStatus.ACKNOWLEDGED) or saved.at(CommandStatus.REJECTED)
                if accepted is not None:
                    self._metrics.command_ack_seconds.observe(max(accepted - saved.created_at, 0))
                    # The vehicle answered, perhaps after its wait ran out and opened
                    # the breaker: reachable, so the breaker closes now, not after its
                    # cooldown and a probe (there may be nothing left to probe with).
                    self.breakers.success(report.vehicle_id)
            if saved.final:
                self._ended(saved, report.at)
        self.poke(report.vehicle_id)
        return sorted((c for c in by_id.values() if not c.final), key=lambda c: c.seq)


def _raise_if_cancelled() -> None:
    """Honour a cancellation that an adapter's ``asyncio.wait_for`` swallowed (Python
    3.11 returns the result instead when the awaited thing finishes at the same moment):
    a commander that is being cancelled must stop, or its task group waits forever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _with_message(command: Command, message: bytes, plan: OrderPlan, update_id: int) -> Command:
    return replace(command, message=message, plan=plan, order_update_id=update_id)
