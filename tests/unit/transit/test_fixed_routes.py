"""The fixed-route service through its tick: blocks handed out, vehicles followed,
arrivals predicted, holds sent as commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from headway.domain.commands import CommandKind
from headway.domain.transit import Block
from headway.network import RoadNetwork
from headway.services.fixed_routes import (
    FixedRouteConfig,
    FixedRouteService,
    assign_blocks,
    route_shape,
    route_stops,
)
from tests.unit.transit.service_fixtures import (
    DAY,
    Clock,
    FakeCommands,
    FakeLive,
    at,
    line_feed,
)


def test_blocks_go_to_the_vehicle_free_longest() -> None:
    blocks = [
        Block("a", ("t1",), 100, 200, True),
        Block("b", ("t2",), 150, 300, True),
        Block("c", ("t3",), 250, 400, True),
        Block("d", ("t4",), 260, 500, True),
        Block("e", ("t5",), 270, 500, True),
    ]
    plan = assign_blocks(blocks, ["v1", "v2", "v3"])
    assert [b.id for b in plan["v1"]] == ["a", "d"]
    assert [b.id for b in plan["v2"]] == ["b"]
    assert [b.id for b in plan["v3"]] == ["c"]
    assert "e" not in {b.id for bs in plan.values() for b in bs}


@pytest.fixture
def service(tmp_path: Path) -> tuple[FixedRouteService, FakeLive, FakeCommands, Clock]:
    clock = Clock(at("08:58"))
    live, commands = FakeLive(), FakeCommands()
    svc = FixedRouteService(line_feed(tmp_path), live, commands, clock=clock)
    return svc, live, commands, clock


def _line_vehicles(svc: FixedRouteService) -> dict[str, str]:
    """Vehicle of each frequency trip of line F: trip id -> vehicle."""
    out: dict[str, str] = {}
    for vehicle_id in ("v1", "v2", "v3", "v4", "v5"):
        progress = svc.progress(vehicle_id)
        if progress is not None and progress.trip is not None:
            for trip in progress.trips[progress.trip_index :]:
                out.setdefault(trip.id, vehicle_id)
    return out


async def test_a_bunched_vehicle_is_held_with_a_command(
    service: tuple[FixedRouteService, FakeLive, FakeCommands, Clock],
) -> None:
    svc, live, commands, clock = service
    svc.start_day(DAY, ["v1", "v2", "v3", "v4", "v5"])
    trips = _line_vehicles(svc)
    first, second = trips["f@09:00:00"], trips["f@09:05:00"]
    # The first leaves A on time; the second turns up at A one minute later: bunched.
    clock.now = at("09:00")
    live.put(first, "A", at("09:00"))
    assert await svc.step() == []  # the leader is not held
    clock.now = at("09:00") + 30
    live.put(first, "between", clock.now)
    await svc.step()
    clock.now = at("09:01")
    live.put(second, "A", clock.now)
    holds = await svc.step()
    assert [h.vehicle_id for h in holds] == [second]
    # The one behind it (the 09:10 trip) is due at A at 09:10: halfway is 09:05:15,
    # a hold of 4 min 15 s, bounded to the rules' two minutes.
    assert holds[0].hold_s == pytest.approx(120.0)
    vehicle_id, request, issued_by, key = commands.sent[-1]
    assert vehicle_id == second
    assert request.kind is CommandKind.HOLD
    assert request.params.duration_s == pytest.approx(120.0)
    assert issued_by == "fixed-routes"
    assert key is not None
    assert key == "hold:2024-01-02:f@09:05:00:A"
    # Seen again at the same stop: no second hold.
    clock.now += 5
    live.put(second, "A", clock.now)
    assert await svc.step() == []
    assert svc.stats.holds_issued == 1


async def test_a_refused_hold_is_counted_and_the_service_goes_on(
    service: tuple[FixedRouteService, FakeLive, FakeCommands, Clock],
) -> None:
    svc, live, commands, clock = service
    commands.refuse = True
    svc.start_day(DAY, ["v1", "v2", "v3", "v4", "v5"])
    trips = _line_vehicles(svc)
    clock.now = at("09:00")
    live.put(trips["f@09:00:00"], "A", clock.now)
    await svc.step()
    clock.now += 30
    live.put(trips["f@09:00:00"], "between", clock.now)
    await svc.step()
    clock.now = at("09:01")
    live.put(trips["f@09:05:00"], "A", clock.now)
    await svc.step()
    assert svc.stats.hold_failures == 1
    assert svc.stats.holds_issued == 0
    clock.now += 60
    live.put(trips["f@09:00:00"], "B", clock.now)
    await svc.step()
    assert svc.progress(trips["f@09:00:00"]).next_index == 1  # type: ignore[union-attr]


async def test_arrivals_follow_the_vehicles_and_fall_back_to_the_schedule(
    service: tuple[FixedRouteService, FakeLive, FakeCommands, Clock],
) -> None:
    svc, live, _, clock = service
    svc.start_day(DAY, ["v1", "v2", "v3", "v4", "v5"])
    trips = _line_vehicles(svc)
    first = trips["f@09:00:00"]
    before = svc.board.arrivals("B", 100)
    assert [a.trip_id for a in before][:2] == ["f@09:00:00", "f@09:05:00"]
    assert all(a.predicted is None for a in before)
    # Two minutes late out of A: predicted at B two minutes late (schedule + delay).
    clock.now = at("09:02")
    live.put(first, "A", clock.now)
    await svc.step()
    clock.now += 10
    live.put(first, "between", clock.now)
    await svc.step()
    board = svc.board.arrivals("B", 3)
    mine = next(a for a in board if a.trip_id == "f@09:00:00")
    assert mine.vehicle_id == first
    assert mine.scheduled == at("09:05")
    assert mine.predicted == pytest.approx(at("09:05") + 130)
    expected = [a.expected for a in board]
    assert expected == sorted(expected)
    assert len(board) == 3
    # Once it has passed B, B no longer lists it.
    clock.now = at("09:08")
    live.put(first, "B", clock.now)
    await svc.step()
    clock.now += 20
    live.put(first, "between", clock.now)
    await svc.step()
    assert "f@09:00:00" not in {a.trip_id for a in svc.board.arrivals("B", 100)}
    c = next(a for a in svc.board.arrivals("C", 100) if a.trip_id == "f@09:00:00")
    assert c.predicted is not None
    assert c.predicted > c.scheduled


async def test_travel_times_from_the_network_drive_the_next_eta(tmp_path: Path) -> None:
    clock = Clock(at("09:00"))
    live = FakeLive()
    calls: list[str] = []

    def travel(state: object, stop: object) -> float:
        calls.append(getattr(stop, "id", ""))
        return 42.0

    feed = line_feed(tmp_path)
    from dataclasses import replace

    from headway.domain.transit import StopPlace

    placed = {k: replace(s, place=StopPlace(0, 0, 0, 0, 0, 0)) for k, s in feed.stops.items()}
    svc = FixedRouteService(replace(feed, stops=placed), live, None, travel, clock=clock)
    svc.start_day(DAY, ["v1", "v2", "v3", "v4", "v5"])
    first = _line_vehicles(svc)["f@09:00:00"]
    live.put(first, "A", clock.now)
    await svc.step()
    clock.now += 10
    live.put(first, "between", clock.now)
    await svc.step()
    b = next(a for a in svc.board.arrivals("B", 10) if a.trip_id == "f@09:00:00")
    assert b.predicted == pytest.approx(clock.now + 42.0)
    assert "B" in calls


def test_route_stops_and_shape(tmp_path: Path) -> None:
    feed = line_feed(tmp_path)
    assert route_stops(feed, "L1") == {0: ["A", "B", "C"], 1: ["C2", "B", "A"]}
    assert route_shape(feed, "L1") == [(49.41, 8.69), (49.41, 8.71)]
    assert route_shape(feed, "F") == [(49.41, 8.69), (49.41, 8.70), (49.41, 8.71)]
    assert route_stops(feed, "nope") == {}


def test_control_stops_limit_where_vehicles_are_held(tmp_path: Path) -> None:
    config = FixedRouteConfig(control_stops=frozenset({"B"}))
    svc = FixedRouteService(line_feed(tmp_path), FakeLive(), None, config=config)
    assert svc.config.control_stops == {"B"}


async def test_the_hold_is_halfway_between_leader_and_follower(tmp_path: Path) -> None:
    from headway.optimizer.headway_control import HoldingRules

    clock = Clock(at("09:00"))
    live, commands = FakeLive(), FakeCommands()
    config = FixedRouteConfig(holding=HoldingRules(max_hold_s=600.0))
    svc = FixedRouteService(line_feed(tmp_path), live, commands, config=config, clock=clock)
    svc.start_day(DAY, ["v1", "v2", "v3", "v4", "v5"])
    trips = _line_vehicles(svc)
    live.put(trips["f@09:00:00"], "A", clock.now)
    await svc.step()
    clock.now += 30
    live.put(trips["f@09:00:00"], "between", clock.now)  # leaves A at 09:00:30
    await svc.step()
    clock.now = at("09:01")
    live.put(trips["f@09:05:00"], "A", clock.now)
    (hold,) = await svc.step()
    # Leader gone 30 s ago, follower (09:10 trip, not out yet) due at 09:10: halfway
    # between 09:00:30 and 09:10:00 is 09:05:15, 255 s from now.
    assert hold.hold_s == pytest.approx(255.0)
    assert commands.sent[-1][1].params.duration_s == pytest.approx(255.0)


async def test_holds_go_through_the_real_command_service(
    tmp_path: Path, street: RoadNetwork
) -> None:
    """The same bunching as above, with Headway's CommandService (memory store and queue)
    in place of the fake: the hold is stored and queued for the commander, once."""
    from headway.adapters.memory.command_queue import MemoryCommandQueue
    from headway.adapters.memory.command_store import MemoryCommandStore
    from headway.adapters.memory.live_state import MemoryLiveState
    from headway.adapters.memory.registry import MemoryVehicleRegistry
    from headway.network.cch_router import CCHRouter
    from headway.services.commands.service import CommandService
    from headway.services.commands.translate import Translator
    from headway.services.metrics import Metrics

    clock = Clock(at("09:00"))
    registry = MemoryVehicleRegistry()
    vehicles = ["v1", "v2", "v3", "v4", "v5"]
    for v in vehicles:
        registry.register("test", v)
    store = MemoryCommandStore()
    commands = CommandService(
        store,
        MemoryCommandQueue(),
        MemoryLiveState(),
        registry,
        Translator(street, CCHRouter(street)),
        Metrics(),
        clock=clock,
    )
    live = FakeLive()
    svc = FixedRouteService(line_feed(tmp_path), live, commands, clock=clock)
    svc.start_day(DAY, vehicles)
    trips = _line_vehicles(svc)
    live.put(trips["f@09:00:00"], "A", clock.now)
    await svc.step()
    clock.now += 30
    live.put(trips["f@09:00:00"], "between", clock.now)
    await svc.step()
    clock.now = at("09:01")
    second = trips["f@09:05:00"]
    live.put(second, "A", clock.now)
    (hold,) = await svc.step()
    assert hold.vehicle_id == second
    stored = await commands.query(vehicle_id=second)
    assert [(c.kind, c.params.duration_s) for c in stored] == [(CommandKind.HOLD, 120.0)]
    assert stored[0].issued_by == "fixed-routes"
    assert svc.stats.holds_issued == 1
