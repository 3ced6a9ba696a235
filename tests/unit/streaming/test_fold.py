"""Scenario tests of the stream fold: each line reads 'status battery alerts' after an event."""

from __future__ import annotations

from dataclasses import dataclass, field

from headway.contracts.events import Capability, ConnectionChanged, Event, Telemetry
from headway.domain.vehicles import VehicleState
from headway.streaming.fold import FoldRules, Place, fold, sweep

RULES = FoldRules(low_battery_pct=20, low_battery_clear_pct=25, offline_after_s=10)
HERE = Place(48.2, 11.6, 42)


def telemetry(t: float, battery: float = 80.0, **kw: object) -> Telemetry:
    fields: dict[str, object] = {
        "vehicle_id": "v1",
        "manufacturer": "m",
        "ts": t,
        "received_at": t + 0.05,
        "x": t,
        "y": 0.0,
        "theta": 0.0,
        "map_id": "city",
        "speed_mps": 5.0,
        "full": True,
        "battery_pct": battery,
        "driving": True,
    }
    fields.update(kw)
    return Telemetry(**fields)  # type: ignore[arg-type]


@dataclass
class Scenario:
    state: VehicleState | None = None
    log: list[str] = field(default_factory=list)

    def apply(self, event: Event) -> Scenario:
        result = fold(self.state, event, HERE, RULES)
        self._record(result)
        return self

    def tick(self, now: float) -> Scenario:
        assert self.state is not None
        self._record(sweep(self.state, now, RULES))
        return self

    def _record(self, result: object) -> None:
        if result is None:
            self.log.append("ignored")
            return
        from headway.streaming.fold import Folded

        assert isinstance(result, Folded)
        self.state = s = result.state
        line = f"{s.status.value} {s.battery_pct:.0f}% [{','.join(sorted(s.alerts))}]"
        if result.raised:
            line += " +" + ",".join(result.raised)
        if result.cleared:
            line += " -" + ",".join(result.cleared)
        self.log.append(line)


def test_low_battery_is_raised_once_and_cleared_with_hysteresis() -> None:
    run = Scenario()
    for t, battery in [(1, 30), (2, 19), (3, 18), (4, 22), (5, 26)]:
        run.apply(telemetry(t, battery))
    assert run.log == [
        "driving 30% []",
        "driving 19% [low_battery] +low_battery",
        "driving 18% [low_battery]",
        "driving 22% [low_battery]",
        "driving 26% [] -low_battery",
    ]


def test_charging_clears_low_battery_and_shows_as_charging() -> None:
    run = Scenario()
    run.apply(telemetry(1, 15)).apply(telemetry(2, 16, charging=True, driving=False))
    assert run.log == ["driving 15% [low_battery] +low_battery", "charging 16% [] -low_battery"]


def test_estop_and_fatal_error_make_a_fault_until_cleared() -> None:
    run = Scenario()
    run.apply(telemetry(1)).apply(telemetry(2, estop="AUTOACK", driving=False))
    run.apply(telemetry(3, fatal=True, errors=("FATAL:driveFault",), driving=False))
    run.apply(telemetry(4))
    assert run.log == [
        "driving 80% []",
        "fault 80% [estop] +estop",
        "fault 80% [fault] +fault -estop",
        "driving 80% [] -fault",
    ]


def test_stale_duplicate_and_late_telemetry_never_move_time_back() -> None:
    run = Scenario()
    run.apply(telemetry(5, 50)).apply(telemetry(5, 40)).apply(telemetry(3, 30))
    assert run.log == ["driving 50% []", "ignored", "ignored"]
    assert run.state is not None
    assert run.state.ts == 5


def test_silence_marks_offline_and_telemetry_brings_it_back() -> None:
    run = Scenario()
    run.apply(telemetry(1)).tick(now=5).tick(now=20).tick(now=25).apply(telemetry(30))
    assert run.log == [
        "driving 80% []",
        "ignored",
        "offline 80% [offline] +offline",
        "ignored",
        "driving 80% [] -offline",
    ]


def test_last_will_marks_offline_in_arrival_order_despite_its_old_timestamp() -> None:
    run = Scenario()
    run.apply(telemetry(10))
    run.apply(ConnectionChanged("v1", "m", ts=1.0, received_at=11.0, state="CONNECTIONBROKEN"))
    run.apply(telemetry(12))
    run.apply(ConnectionChanged("v1", "m", ts=12.5, received_at=12.6, state="ONLINE"))
    assert run.log == [
        "driving 80% []",
        "offline 80% [offline] +offline",
        "offline 80% [offline]",
        "driving 80% [] -offline",
    ]


def test_offline_keeps_the_alerts_it_had() -> None:
    run = Scenario()
    run.apply(telemetry(1, 10)).tick(now=30)
    assert run.log[-1] == "offline 10% [low_battery,offline] +offline"


def test_position_only_updates_move_but_keep_battery_and_status() -> None:
    run = Scenario()
    run.apply(telemetry(1, 60)).apply(telemetry(2, 0, full=False, speed_mps=None))
    assert run.log == ["driving 60% []", "driving 60% []"]
    assert run.state is not None
    assert run.state.x == 2
    assert run.state.speed_mps == 5.0


def test_position_before_any_state_is_not_shown() -> None:
    assert Scenario().apply(telemetry(1, full=False)).log == ["ignored"]


def test_capacity_from_factsheet() -> None:
    run = Scenario().apply(telemetry(1))
    run.apply(Capability("v1", "m", ts=2, received_at=2, capacity=12))
    assert run.state is not None
    assert run.state.capacity == 12
    assert fold(None, Capability("v1", "m", 1, 1, 12), HERE, RULES) is None
