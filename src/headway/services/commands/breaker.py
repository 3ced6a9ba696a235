"""A circuit breaker per vehicle: stop hammering a vehicle that does not answer.

Closed, it lets every send through and counts consecutive failures (an attempt whose
acknowledgement did not come in time). After ``threshold`` of them it opens: nothing is
sent to that vehicle for ``cooldown_s``. Then it lets one probe through (half open). An
answer from the vehicle (acknowledgement or rejection) closes it; another silence opens
it again with the cool-down doubled, up to ``max_cooldown_s``. Commands waiting meanwhile
keep their place and may expire.

Breakers are local to one commander process, as in most implementations: each instance
learns on its own how a vehicle is doing, and a restart starts closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    threshold: int = 5
    cooldown_s: float = 5.0
    max_cooldown_s: float = 60.0


@dataclass(slots=True)
class CircuitBreaker:
    policy: BreakerPolicy
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    open_until: float = 0.0
    cooldown_s: float = 0.0
    probing: bool = False

    def allows(self, now: float) -> bool:
        """May a command be sent now? In half-open state only one probe at a time."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if now < self.open_until:
                return False
            self.state = BreakerState.HALF_OPEN
            self.probing = False
        return not self.probing

    def sent(self) -> None:
        if self.state is BreakerState.HALF_OPEN:
            self.probing = True

    def success(self) -> bool:
        """The vehicle answered; returns True if that closed the breaker."""
        self.failures = 0
        if self.state is BreakerState.CLOSED:
            return False
        self.state = BreakerState.CLOSED
        self.cooldown_s = 0.0
        self.probing = False
        return True

    def failure(self, now: float) -> bool:
        """An attempt went unanswered; returns True if that opened the breaker."""
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN:
            self.cooldown_s = min(self.cooldown_s * 2.0, self.policy.max_cooldown_s)
            self._open(now)
            return True
        if self.state is BreakerState.CLOSED and self.failures >= self.policy.threshold:
            self.cooldown_s = self.policy.cooldown_s
            self._open(now)
            return True
        return False

    def _open(self, now: float) -> None:
        self.state = BreakerState.OPEN
        self.open_until = now + self.cooldown_s
        self.probing = False


class Breakers:
    """One breaker per vehicle, created closed on first use."""

    def __init__(
        self,
        policy: BreakerPolicy,
        on_change: Callable[[str, BreakerState], None] | None = None,
    ) -> None:
        self.policy = policy
        self._breakers: dict[str, CircuitBreaker] = {}
        self._on_change = on_change

    def of(self, vehicle_id: str) -> CircuitBreaker:
        breaker = self._breakers.get(vehicle_id)
        if breaker is None:
            breaker = self._breakers[vehicle_id] = CircuitBreaker(self.policy)
        return breaker

    def allows(self, vehicle_id: str, now: float) -> bool:
        breaker = self._breakers.get(vehicle_id)
        if breaker is None:
            return True
        before = breaker.state
        allowed = breaker.allows(now)
        if breaker.state is not before:
            self._changed(vehicle_id, breaker.state)
        return allowed

    def sent(self, vehicle_id: str) -> None:
        breaker = self._breakers.get(vehicle_id)
        if breaker is not None:
            breaker.sent()

    def success(self, vehicle_id: str) -> None:
        breaker = self._breakers.get(vehicle_id)
        if breaker is not None and breaker.success():
            self._changed(vehicle_id, BreakerState.CLOSED)

    def failure(self, vehicle_id: str, now: float) -> None:
        if self.of(vehicle_id).failure(now):
            self._changed(vehicle_id, BreakerState.OPEN)

    def state(self, vehicle_id: str) -> BreakerState:
        breaker = self._breakers.get(vehicle_id)
        return BreakerState.CLOSED if breaker is None else breaker.state

    def counts(self) -> dict[BreakerState, int]:
        counts = dict.fromkeys(BreakerState, 0)
        for breaker in self._breakers.values():
            counts[breaker.state] += 1
        return counts

    def _changed(self, vehicle_id: str, state: BreakerState) -> None:
        if self._on_change is not None:
            self._on_change(vehicle_id, state)
