"""Accepting commands: validate, store durably, queue for the commanders.

The API and the dispatcher call ``submit``; nothing is sent from here. A command is
stored before it is queued, so a crash between the two leaves a stored command that
the commanders' sweeper queues later: it is late, never lost. ``Idempotency-Key``
makes a retried request return the command the first one created.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from headway.domain.commands import (
    INSTANT_KINDS,
    NEW_ORDER_KINDS,
    Command,
    CommandKind,
    CommandParams,
    CommandStatus,
    Transition,
    order_id_for,
)
from headway.services.commands.errors import (
    CommandRefused,
    IdempotencyConflict,
    UnknownCommandVehicle,
)
from headway.services.commands.translate import STOP_ACTIONS, Translator
from headway.services.metrics import Metrics
from headway.services.ports import CommandQueue, CommandStore, LiveState, VehicleRegistry

log = logging.getLogger(__name__)

MAX_STOPS = 50
MAX_HOLD_S = 3600.0


@dataclass(frozen=True, slots=True)
class CommandRequest:
    kind: CommandKind
    params: CommandParams = field(default_factory=CommandParams)
    ttl_s: float | None = None
    """How long the command may take to be acknowledged; None: the service's default."""


def new_command_id(now: float) -> str:
    """Sorts by creation time (milliseconds), unique across processes (32 random bits)."""
    return f"c{int(now * 1000):012x}{secrets.token_hex(4)}"


class CommandService:
    def __init__(
        self,
        store: CommandStore,
        queue: CommandQueue,
        live: LiveState,
        registry: VehicleRegistry,
        translator: Translator,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
        default_ttl_s: float = 120.0,
        max_ttl_s: float = 3600.0,
    ) -> None:
        self._store = store
        self._queue = queue
        self._live = live
        self._registry = registry
        self._translator = translator
        self._metrics = metrics
        self._clock = clock
        self.default_ttl_s = default_ttl_s
        self.max_ttl_s = max_ttl_s

    async def submit(
        self,
        vehicle_id: str,
        request: CommandRequest,
        issued_by: str = "",
        idempotency_key: str | None = None,
    ) -> tuple[Command, bool]:
        """Store and queue a command; returns it and whether it is new (False: the
        Idempotency-Key was seen before with the same request). Raises CommandError."""
        manufacturer = await self._manufacturer(vehicle_id)
        ttl = self.default_ttl_s if request.ttl_s is None else request.ttl_s
        if not 0.0 < ttl <= self.max_ttl_s:
            raise CommandRefused(f"ttl_s must be in (0, {self.max_ttl_s:g}] seconds, got {ttl:g}")
        order_id = await self._check(vehicle_id, request)
        fingerprint = _fingerprint(vehicle_id, request, ttl)
        key = f"{issued_by}:{idempotency_key}" if idempotency_key else ""
        now = self._clock()
        command_id = new_command_id(now)
        command = Command(
            id=command_id,
            vehicle_id=vehicle_id,
            manufacturer=manufacturer,
            kind=request.kind,
            params=request.params,
            status=CommandStatus.ACCEPTED,
            created_at=now,
            expires_at=now + ttl,
            updated_at=now,
            issued_by=issued_by,
            idempotency_key=key,
            fingerprint=fingerprint,
            order_id=order_id_for(command_id) if request.kind in NEW_ORDER_KINDS else order_id,
            action_id=command_id if request.kind in INSTANT_KINDS else "",
            history=(Transition(CommandStatus.ACCEPTED, now),),
        )
        stored, created = await self._store.create(command)
        if not created:
            if stored.fingerprint != fingerprint:
                raise IdempotencyConflict(idempotency_key or "", stored.id)
            if stored.status is CommandStatus.ACCEPTED:
                await self._enqueue(stored)
            return stored, False
        self._metrics.commands_submitted.labels(stored.kind.value).inc()
        await self._enqueue(stored)
        return stored, True

    async def get(self, command_id: str) -> Command | None:
        return await self._store.get(command_id)

    async def query(
        self,
        vehicle_id: str | None = None,
        status: CommandStatus | None = None,
        kind: CommandKind | None = None,
        before: str = "",
        limit: int = 100,
    ) -> list[Command]:
        return await self._store.query(vehicle_id, status, kind, before, limit)

    async def _enqueue(self, command: Command) -> None:
        try:
            await self._queue.put(command.vehicle_id, command.id)
        except Exception:
            # Stored is what counts: the commanders' sweeper queues it later.
            log.warning("command %s stored but not queued; the sweeper will queue it", command.id)

    async def _manufacturer(self, vehicle_id: str) -> str:
        state = await self._live.get(vehicle_id)
        if state is not None and self._registry.is_known(state.manufacturer, vehicle_id):
            return state.manufacturer
        for manufacturer, serial in self._registry.all():
            if serial == vehicle_id:
                return manufacturer
        raise UnknownCommandVehicle(vehicle_id)

    async def _check(self, vehicle_id: str, request: CommandRequest) -> str:
        """Refuse what can never be carried out; returns the order id an update extends."""
        params, kind = request.params, request.kind
        if kind in (CommandKind.DRIVE, CommandKind.UPDATE):
            if not 1 <= len(params.stops) <= MAX_STOPS:
                raise CommandRefused(f"give between 1 and {MAX_STOPS} stops")
            if not 0 <= params.horizon < len(params.stops):
                raise CommandRefused(
                    "horizon must leave at least one stop released: 0 <= horizon < stops"
                )
            for visit in params.stops:
                if not self._translator.knows_stop(visit.stop_id):
                    raise CommandRefused(f"no stop {visit.stop_id!r} in this service area")
                unknown = set(visit.actions) - set(STOP_ACTIONS)
                if unknown:
                    raise CommandRefused(
                        f"unknown stop action(s) {sorted(unknown)}; use {list(STOP_ACTIONS)}"
                    )
                if not 0.0 <= visit.hold_s <= MAX_HOLD_S:
                    raise CommandRefused(f"hold_s must be between 0 and {MAX_HOLD_S:g}")
                if "hold" in visit.actions and visit.hold_s <= 0:
                    raise CommandRefused("a hold action needs hold_s > 0")
        if kind is CommandKind.UPDATE:
            base = await self._store.get(params.order_command_id)
            if base is None or base.vehicle_id != vehicle_id or base.kind is not CommandKind.DRIVE:
                raise CommandRefused(
                    f"order_command_id {params.order_command_id!r} is not a drive command "
                    f"of vehicle {vehicle_id!r}"
                )
            return base.order_id
        if kind is CommandKind.HOLD and not 0.0 < params.duration_s <= MAX_HOLD_S:
            raise CommandRefused(f"duration_s must be in (0, {MAX_HOLD_S:g}] seconds")
        if kind is CommandKind.CHARGE:
            if not 10.0 <= params.target_pct <= 100.0:
                raise CommandRefused("target_pct must be between 10 and 100")
            if params.place_id and not self._translator.knows_charger(params.place_id):
                raise CommandRefused(f"no charger {params.place_id!r} in this service area")
        if (
            kind is CommandKind.RETURN_TO_DEPOT
            and params.place_id
            and not self._translator.knows_depot(params.place_id)
        ):
            raise CommandRefused(f"no depot {params.place_id!r} in this service area")
        return ""


def _fingerprint(vehicle_id: str, request: CommandRequest, ttl: float) -> str:
    body = msgspec.json.encode((vehicle_id, request.kind, request.params, ttl))
    return hashlib.sha256(body).hexdigest()[:32]
