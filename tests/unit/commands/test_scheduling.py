"""What may be sent now: lanes, per-vehicle order, retries with backoff, expiry, breaker."""

from __future__ import annotations

import random

import pytest

from headway.domain.commands import Command, CommandKind, CommandStatus
from headway.services.commands.breaker import BreakerPolicy, Breakers, BreakerState
from headway.services.commands.scheduling import RetryPolicy, plan_vehicle

from .builders import T0, cmd

K, S = CommandKind, CommandStatus
POLICY = RetryPolicy(ack_timeout_s=1.0, factor=2.0, max_delay_s=8.0, jitter=0.5, ack_grace_s=5.0)


def decide(commands: list[Command], now: float = T0 + 1, may_send: bool = True) -> list[str]:
    """One line per held command: what the plan does with it, or what it waits for."""
    plan = plan_vehicle(commands, now, {c.id for c in commands}, may_send, POLICY)
    steps = {s.command.id: f"{s.do.value}" + (f" ({s.note})" if s.note else "") for s in plan.steps}
    lines = []
    for c in commands:
        if c.id in steps:
            lines.append(f"{c.id} {c.kind}: {steps[c.id]}")
        elif c.id in plan.waiting:
            lines.append(f"{c.id} {c.kind}: {plan.waiting[c.id]}")
        else:
            lines.append(f"{c.id} {c.kind}: -")
    return lines


def test_trip_commands_go_one_at_a_time_in_order() -> None:
    commands = [cmd(1, K.DRIVE), cmd(2, K.HOLD), cmd(3, K.UPDATE)]
    assert decide(commands) == [
        "c1 drive: send",
        "c2 hold: waits for c1 (drive) to be acknowledged",
        "c3 update: waits for c1 (drive) to be acknowledged",
    ]
    commands[0] = cmd(1, K.DRIVE, S.RUNNING)
    assert decide(commands)[1:] == [
        "c2 hold: send",
        "c3 update: waits for c2 (hold) to be acknowledged",
    ]


def test_a_new_order_waits_for_the_previous_one_to_end() -> None:
    commands = [cmd(1, K.DRIVE, S.RUNNING), cmd(2, K.RETURN_TO_DEPOT), cmd(3, K.UPDATE)]
    assert decide(commands) == [
        "c1 drive: -",
        "c2 return_to_depot: waits for c1 (drive) to end",
        "c3 update: waits for c2 (return_to_depot) to be acknowledged",
    ]


def test_control_commands_do_not_queue_behind_trips() -> None:
    commands = [
        cmd(1, K.DRIVE, S.RUNNING),
        cmd(2, K.CHARGE),
        cmd(3, K.PAUSE),
        cmd(4, K.RESUME),
    ]
    assert decide(commands) == [
        "c1 drive: -",
        "c2 charge: waits for c1 (drive) to end",
        "c3 pause: send",
        "c4 resume: waits for c3 (pause) to be acknowledged",
    ]


def test_a_cancel_supersedes_orders_never_sent_and_waits_for_those_in_flight() -> None:
    commands = [
        cmd(1, K.DRIVE, S.SENT),
        cmd(2, K.CHARGE),
        cmd(3, K.HOLD),
        cmd(4, K.CANCEL),
        cmd(5, K.RETURN_TO_DEPOT),
    ]
    assert decide(commands, now=T0 + 1) == [
        "c1 drive: -",
        "c2 charge: supersede (superseded by c4)",
        "c3 hold: waits for c1 (drive) to be acknowledged",
        "c4 cancel: waits for c1 (drive) to be acknowledged",
        "c5 return_to_depot: waits for c1 (drive) to be acknowledged",
    ]
    commands[0] = cmd(1, K.DRIVE, S.RUNNING)
    assert decide(commands)[2:] == [
        "c3 hold: send",
        "c4 cancel: send",
        "c5 return_to_depot: waits for c1 (drive) to end",
    ]


def test_retries_wait_for_the_ack_window_then_go() -> None:
    sent = cmd(1, K.PAUSE, S.SENT, next_attempt_at=T0 + 2.0)
    assert decide([sent], now=T0 + 1.5) == ["c1 pause: -"]
    plan = plan_vehicle([sent], T0 + 1.5, {"c1"}, True, POLICY)
    assert plan.wake_at == T0 + 2.0
    assert decide([sent], now=T0 + 2.0) == ["c1 pause: send"]


def test_backoff_grows_exponentially_with_jitter_up_to_a_cap() -> None:
    rng = random.Random(5)
    for attempts, full in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [POLICY.delay(attempts, rng) for _ in range(200)]
        assert all(full * 0.5 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full * 0.3


def test_expiry_never_sent_at_once_sent_after_a_grace() -> None:
    waiting = cmd(1, K.HOLD)
    assert decide([waiting], now=T0 + 60) == ["c1 hold: expire (expired before it could be sent)"]
    sent = cmd(1, K.HOLD, S.SENT, attempts=3, next_attempt_at=T0 + 58)
    assert decide([sent], now=T0 + 61) == ["c1 hold: expired: awaiting a late acknowledgement"]
    assert decide([sent], now=T0 + 65) == ["c1 hold: expire (not acknowledged after 3 attempt(s))"]


def test_a_blocked_command_expires_in_its_place() -> None:
    commands = [cmd(1, K.DRIVE, S.RUNNING), cmd(2, K.CHARGE, expires_at=T0 + 10)]
    assert decide(commands, now=T0 + 11) == [
        "c1 drive: -",
        "c2 charge: expire (expired before it could be sent)",
    ]


def test_nothing_is_sent_while_the_breaker_is_open() -> None:
    commands = [cmd(1, K.PAUSE), cmd(2, K.HOLD)]
    assert decide(commands, may_send=False) == [
        "c1 pause: circuit breaker open",
        "c2 hold: waits for c1 (pause) to be acknowledged",
    ]


def test_only_held_commands_are_acted_on() -> None:
    commands = [cmd(1, K.PAUSE), cmd(2, K.HOLD)]
    plan = plan_vehicle(commands, T0 + 1, {"c2"}, True, POLICY)
    assert plan.steps == ()
    assert plan.waiting == {"c2": "waits for c1 (pause) to be acknowledged"}


class TestBreaker:
    def test_opens_after_repeated_failures_probes_and_closes(self) -> None:
        changes: list[str] = []
        breakers = Breakers(
            BreakerPolicy(threshold=3, cooldown_s=5.0, max_cooldown_s=20.0),
            lambda vid, state: changes.append(f"{vid} {state}"),
        )
        for t in range(3):
            assert breakers.allows("v1", t)
            breakers.sent("v1")
            breakers.failure("v1", t)
        assert breakers.state("v1") is BreakerState.OPEN
        assert not breakers.allows("v1", 4.9)
        assert breakers.allows("v1", 7.0)
        breakers.sent("v1")
        assert not breakers.allows("v1", 7.1), "one probe at a time"
        breakers.failure("v1", 8.0)
        assert not breakers.allows("v1", 17.9), "cool-down doubled to 10 s"
        assert breakers.allows("v1", 18.0)
        breakers.sent("v1")
        breakers.success("v1")
        assert breakers.allows("v1", 18.1)
        assert changes == ["v1 open", "v1 half_open", "v1 open", "v1 half_open", "v1 closed"]

    def test_a_success_resets_the_count(self) -> None:
        breakers = Breakers(BreakerPolicy(threshold=3))
        for t in range(10):
            breakers.failure("v1", t)
            if t % 2:
                breakers.success("v1")
        assert breakers.state("v1") is BreakerState.CLOSED

    @pytest.mark.parametrize("cooldowns", [5])
    def test_cool_down_is_capped(self, cooldowns: int) -> None:
        breakers = Breakers(BreakerPolicy(threshold=1, cooldown_s=cooldowns, max_cooldown_s=12))
        now = 0.0
        breakers.failure("v1", now)
        for _ in range(5):
            now = breakers.of("v1").open_until
            assert breakers.allows("v1", now)
            breakers.sent("v1")
            breakers.failure("v1", now)
        assert breakers.of("v1").cooldown_s == 12
