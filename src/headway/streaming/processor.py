"""The processor: events from the log folded into live state, history and alerts.

One writer per vehicle: a vehicle's events sit on one partition, and a partition has
one consumer in the group, so this loop owns the states it folds. Its cache of states
is filled from the live store on first sight of a vehicle, which is what lets another
processor take over a partition after a crash. The offset is committed only after what
a batch produced is stored, so a crash replays the batch, and the fold ignores what it
already applied.

Live state is written before history, so a batch is visible without waiting for
PostgreSQL: run() hands telemetry history to a HistoryWriter (history_writer.py), which
stores it while the next batch is folded and commits the offsets after it. A replay may
therefore find live state ahead of history: every telemetry event read becomes a history
row, including those the fold ignores as not newer than the state (``_replayed``), and
history drops the rows it already holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import msgspec
import numpy as np

from headway.contracts.events import (
    TELEMETRY_TOPIC,
    Capability,
    DeadLetter,
    Event,
    Telemetry,
    event_decoder,
)
from headway.domain.alerts import SEVERITY, Alert, alert_id
from headway.domain.vehicles import AlertKind, VehicleState, VehicleStatus
from headway.network.graph import RoadNetwork
from headway.network.matching import FleetMatcher
from headway.services.metrics import Metrics
from headway.services.ports import DeadLetters, EventLog, LiveState, Records
from headway.streaming.fold import Folded, FoldRules, Place, fold, sweep
from headway.streaming.history_writer import HistoryWriter
from headway.streaming.track import TrackSampler
from headway.streaming.traffic_feed import TrafficFeed

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.2
RETRY_MAX_S = 5.0


@dataclass
class ProcessorStats:
    records: int = 0
    applied: int = 0
    ignored: int = 0
    rejected: int = 0
    retries: int = 0
    latencies_s: list[float] = field(default_factory=list)
    keep_latencies: int = 2_000_000


class Processor:
    def __init__(
        self,
        log: EventLog,
        live: LiveState,
        records: Records,
        dead_letters: DeadLetters,
        network: RoadNetwork,
        metrics: Metrics,
        rules: FoldRules | None = None,
        group: str = "processor",
        clock: Callable[[], float] = time.time,
        track_interval_s: float = 5.0,
        topic: str = TELEMETRY_TOPIC,
        traffic: TrafficFeed | None = None,
    ) -> None:
        self._topic = topic
        self._traffic = traffic
        self._consumer = log.consumer(group, [topic])
        self._live = live
        self._records = records
        self._dead = dead_letters
        self._network = network
        self._matcher = FleetMatcher(network)
        self._metrics = metrics
        self._rules = rules or FoldRules()
        self._clock = clock
        self._states: dict[str, VehicleState] = {}
        self._capacity: dict[str, int] = {}
        self._open_alerts: dict[tuple[str, AlertKind], Alert] = {}
        self._track_interval_s = track_interval_s
        self._sampler = TrackSampler(track_interval_s)
        self._alerts_loaded = False
        self._last_sweep = 0.0
        self._history = HistoryWriter(records, self._consumer)
        self._background = False  # history written by run()'s writer task
        self.stats = ProcessorStats()

    async def _load_alerts(self) -> None:
        if self._alerts_loaded:
            return
        for alert in await self._live.active_alerts():
            self._open_alerts[(alert.vehicle_id, alert.kind)] = alert
        self._alerts_loaded = True

    async def run(
        self, stop: asyncio.Event, max_records: int = 5000, history_beside: bool = False
    ) -> None:
        """Step until ``stop``. ``history_beside``: write telemetry history on a task of
        its own while the next batch is folded (the stack's processor, whose history
        is PostgreSQL). Without it each step stores history before the next (the
        embedded profile: its history is local, and one process shares one core with
        the broker, the simulator and the rest, where bigger batches cost less)."""
        pause = RETRY_FIRST_S
        self._background = history_beside
        writer = asyncio.create_task(self._history.run(stop)) if history_beside else None
        try:
            while not stop.is_set():
                try:
                    await self.step(max_records=max_records, timeout_s=0.05)
                    pause = RETRY_FIRST_S
                except Exception as exc:  # a store outage must not end the loop
                    self.stats.retries += 1
                    log.warning("processor step failed (%s); replaying in %.1f s", exc, pause)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), pause)
                    pause = min(pause * 2, RETRY_MAX_S)
            if writer is not None:
                await writer  # what is waiting is written and committed
        finally:
            if writer is not None:
                writer.cancel()
            self._background = False
        await self._consumer.close()

    async def step(self, max_records: int = 5000, timeout_s: float = 0.0) -> int:
        await self._load_alerts()
        applied, ignored = self.stats.applied, self.stats.ignored
        batch = await self._consumer.poll(max_records, timeout_s)
        now = self._clock()
        events: list[Event] = []
        for record in batch:
            try:
                events.append(event_decoder.decode(record.value))
            except msgspec.DecodeError as exc:
                self._reject("undecodable", str(exc), record.key, record.value, now)
        changed: dict[str, VehicleState] = {}
        history: list[VehicleState] = []
        alerts: list[Alert] = []
        applied_ts: list[float] = []
        if events:
            await self._warm([e.vehicle_id for e in events])
            places = self._places(events)
            for event, place in zip(events, places, strict=True):
                if isinstance(event, Capability):
                    self._capacity[event.vehicle_id] = event.capacity
                if isinstance(event, Telemetry) and place is None:
                    self._reject("unknown_map", event.map_id, event.vehicle_id, b"", now)
                    continue
                result = fold(
                    self._states.get(event.vehicle_id),
                    event,
                    place,
                    self._rules,
                    self._capacity.get(event.vehicle_id),
                )
                if result is None:
                    self.stats.ignored += 1
                    if isinstance(event, Telemetry):
                        replayed = self._replayed(event, place)
                        if replayed is not None:
                            history.append(replayed)
                    continue
                self._accept(result, now, changed, alerts)
                if isinstance(event, Telemetry):
                    applied_ts.append(event.ts)
                    history.append(result.state)
        if now - self._last_sweep >= 1.0:
            self._last_sweep = now
            for state in list(self._states.values()):
                swept = sweep(state, now, self._rules)
                if swept is not None:
                    self._accept(swept, now, changed, alerts)
        # Counted once per batch: a Prometheus increment takes a lock (per event, about
        # 3 % of the processor's time).
        self._metrics.events_applied.inc(self.stats.applied - applied)
        self._metrics.events_ignored.inc(self.stats.ignored - ignored)
        if changed:
            try:
                await self._store(list(changed.values()), alerts, applied_ts)
            except Exception:
                # Nothing of this batch is committed: go back to the last commit, forget
                # what was folded, and let the caller retry after a pause. The replay is
                # harmless: the fold and the stores ignore what they already have.
                await self._consumer.rewind()
                self._forget()
                raise
        if batch:
            self._history.add(self._sampler.sample(history), self._consumer.positions())
        if self._background:
            await self._history.room()
        else:  # stepped by hand (tests, tools): stored and committed before returning
            await self._history.write()
        self.stats.records += len(batch)
        return len(batch)

    async def _store(
        self, latest: list[VehicleState], alerts: list[Alert], applied_ts: list[float]
    ) -> None:
        """Alert history, then live state; telemetry history follows (HistoryWriter).

        Alerts go to history first because a replay folds from live state and would not
        raise again an alert that live state already holds. Telemetry history may lag
        live state: a replay writes the rows again (``_replayed``), and duplicates are
        dropped by the history store.
        """
        if alerts:
            await self._records.add_alerts(alerts)
        await self._live.put_many(latest)
        if alerts:
            await self._live.put_alerts(alerts)
        self._observe(applied_ts, self._clock())

    def _replayed(self, event: Telemetry, place: Place | None) -> VehicleState | None:
        """The history row of a telemetry event that is not newer than the vehicle's
        state: after a crash or a store failure, live state may hold an event whose row
        never reached history. Fields the event does not carry come from the newer
        state. Late events are recorded the same way."""
        prev = self._states.get(event.vehicle_id)
        if prev is None or place is None or event.ts > prev.ts:
            return None
        again = fold(
            replace(prev, ts=-math.inf),
            event,
            place,
            self._rules,
            self._capacity.get(event.vehicle_id),
        )
        return None if again is None else again.state

    def _forget(self) -> None:
        self._states.clear()
        self._open_alerts.clear()
        self._sampler = TrackSampler(self._track_interval_s)
        self._alerts_loaded = False

    async def _warm(self, vehicle_ids: list[str]) -> None:
        missing = sorted({v for v in vehicle_ids if v not in self._states})
        if not missing:
            return
        for vehicle_id, state in zip(missing, await self._live.get_many(missing), strict=True):
            if state is not None:
                self._states[vehicle_id] = state

    def _places(self, events: list[Event]) -> list[Place | None]:
        """WGS84 and road segment for every telemetry event of the batch, in one vector pass."""
        index = [
            i
            for i, e in enumerate(events)
            if isinstance(e, Telemetry) and e.map_id == self._network.frame.map_id
        ]
        places: list[Place | None] = [None] * len(events)
        if not index:
            return places
        xy = np.array([(events[i].x, events[i].y) for i in index], dtype=np.float64)  # type: ignore[union-attr]
        latlon = self._network.frame.to_wgs84_many(xy)
        fixes = [e for e in (events[i] for i in index) if isinstance(e, Telemetry)]
        ids, ts, speeds = (
            [e.vehicle_id for e in fixes],
            [e.ts for e in fixes],
            [e.speed_mps for e in fixes],
        )
        segments = self._matcher.match(ids, xy, ts, [e.theta for e in fixes], speeds)
        if self._traffic is not None:  # segment speeds for live traffic (traffic_feed.py)
            self._traffic.add(ids, segments, ts, xy, speeds)
        for j, i in enumerate(index):
            places[i] = Place(float(latlon[j, 0]), float(latlon[j, 1]), int(segments[j]))
        for i, event in enumerate(events):
            if not isinstance(event, Telemetry):
                places[i] = Place(0.0, 0.0, None)
        return places

    def _accept(
        self,
        result: Folded,
        now: float,
        changed: dict[str, VehicleState],
        alerts: list[Alert],
    ) -> None:
        state = result.state
        self._states[state.id] = state
        changed[state.id] = state
        self.stats.applied += 1
        for kind in result.raised:
            alert = Alert(
                id=alert_id(state.id, kind, state.ts),
                vehicle_id=state.id,
                kind=kind,
                severity=SEVERITY[kind],
                message=_message(kind, state),
                raised_at=now,
            )
            self._open_alerts[(state.id, kind)] = alert
            alerts.append(alert)
        for kind in result.cleared:
            opened = self._open_alerts.pop((state.id, kind), None)
            if opened is not None:
                alerts.append(replace(opened, cleared_at=now))

    def _observe(self, applied_ts: list[float], visible_at: float) -> None:
        stats = self.stats
        for ts in applied_ts:
            delay = max(0.0, visible_at - ts)
            self._metrics.publish_to_visible.observe(delay)
            if len(stats.latencies_s) < stats.keep_latencies:
                stats.latencies_s.append(delay)

    def _reject(self, reason: str, detail: str, key: str, value: bytes, now: float) -> None:
        self.stats.rejected += 1
        self._metrics.dead_letters.labels("processor", reason).inc()
        self._dead.add(
            DeadLetter(
                source="processor",
                reason=reason,
                detail=detail[:500],
                received_at=now,
                topic=self._topic,
                key=key,
                payload=value[:2048],
            )
        )

    @property
    def known_vehicles(self) -> int:
        return len(self._states)

    def status_counts(self) -> dict[VehicleStatus, int]:
        counts = dict.fromkeys(VehicleStatus, 0)
        for state in self._states.values():
            counts[state.status] += 1
        return counts


def _message(kind: AlertKind, state: VehicleState) -> str:
    if kind is AlertKind.LOW_BATTERY:
        return f"battery at {state.battery_pct:.0f}% and not charging"
    if kind is AlertKind.OFFLINE:
        if state.connection != "ONLINE":
            return f"connection {state.connection.lower()}"
        return "no telemetry received recently"
    if kind is AlertKind.ESTOP:
        return f"emergency stop engaged ({state.estop})"
    return "fault: " + (", ".join(state.errors) or "unspecified")
