"""Live traffic from the fleet's fixes: segment visits, the feed, and the scenario that
matters: vehicles crawling along a road make routes avoid it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from headway.adapters.memory.dead_letters import MemoryDeadLetters
from headway.adapters.memory.event_log import MemoryEventLog
from headway.adapters.memory.live_state import MemoryLiveState
from headway.adapters.memory.traffic import MemoryTrafficStore
from headway.adapters.sqlite_records import SqliteRecords
from headway.contracts.events import TELEMETRY_TOPIC, Telemetry, event_encoder
from headway.network.cch_router import CCHRouter
from headway.network.city import CityParams, generate_city
from headway.network.graph import RoadNetwork
from headway.services.metrics import Metrics
from headway.services.traffic import TrafficFollower
from headway.streaming.processor import Processor
from headway.streaming.traffic_feed import SegmentVisits, TrafficFeed, VisitRules

NO_STOP_WAIT = VisitRules(near_stop_s=0.0)  # report a visit at once, for short tests


@pytest.fixture(scope="module")
def network() -> RoadNetwork:
    return generate_city(CityParams(seed=3, size_km=3.0))


def test_a_visit_ends_with_one_observation_of_the_reported_speed() -> None:
    visits = SegmentVisits(VisitRules(near_stop_s=0.0))
    xy = [(0.0, 0.0), (5.0, 0.0), (10.0, 0.0), (15.0, 0.0)]
    e, v, t = visits.add(["a"] * 4, [7, 7, 7, 8], [0.0, 1.0, 2.0, 3.0], xy, [4.0, 6.0, 5.0, 5.0])
    assert (e, v, t) == ([7], [5.0], [2.0])
    assert visits.add(["a"], [8], [4.0], [(20.0, 0.0)], [5.0]) == ([], [], [])


def test_visits_near_a_stop_say_nothing_and_others_wait_to_be_sure() -> None:
    visits = SegmentVisits(VisitRules(near_stop_s=15.0))

    def drive(edges: list[int], t0: float, speeds: list[float]) -> list[int]:
        n = len(edges)
        ts = [t0 + i for i in range(n)]
        return visits.add(["a"] * n, edges, ts, [(0.0, 0.0)] * n, speeds)[0]

    # Edge 1 at cruising speed, then edge 2 braking into a stop within 15 s: neither.
    assert drive([1] * 5 + [2] * 5, 0.0, [9.0] * 5 + [6.0, 4.0, 2.0, 1.0, 0.0]) == []
    # Pulling away: edge 3 begins 2 s after the stop, so it is left out too.
    assert drive([2, 3, 3, 3, 3], 10.0, [0.0, 2.0, 4.0, 6.0, 8.0]) == []
    # Well clear of it, edge 4 is reported once 15 s have shown no stop followed.
    assert drive([4] * 20 + [5] * 20, 30.0, [9.0] * 40) == [4]


def test_without_reported_speeds_a_visit_gives_distance_over_time() -> None:
    visits = SegmentVisits(VisitRules(min_span_s=5.0, near_stop_s=0.0))
    n = 8
    xy = [(3.0 * i, 0.0) for i in range(n)]
    e, v, _ = visits.add(
        ["a"] * n, [1] * (n - 1) + [2], [float(i) for i in range(n)], xy, [None] * n
    )
    assert e == [1]
    assert v == pytest.approx([3.0])
    short = visits.add(["b", "b", "b"], [1, 1, 2], [0.0, 1.0, 2.0], xy[:3], [None] * 3)
    assert short == ([], [], [])  # two seconds: too short to say anything


def test_vehicles_are_kept_apart_and_long_or_broken_visits_still_report() -> None:
    visits = SegmentVisits(VisitRules(max_visit_s=10.0, max_gap_s=5.0, near_stop_s=0.0))
    ids = ["a", "b"] * 12
    ts = [float(i // 2) for i in range(24)]
    edges = [1, 2] * 12
    speeds = [2.0, 8.0] * 12
    e, v, _ = visits.add(ids, edges, ts, np.zeros((24, 2)), speeds)
    assert sorted(zip(e, v, strict=True)) == [(1, 2.0), (2, 8.0)]  # each at 10 s
    gap = visits.add(["a"], [1], [40.0], [(0.0, 0.0)], [3.0])
    assert gap == ([1], [2.0], [11.0])  # silence ended the visit
    assert visits.add(["a"], [1], [39.0], [(0.0, 0.0)], [9.0]) == ([], [], [])  # late


def _drive(
    network: RoadNetwork, edges: list[int], speed: float, start: float, vehicle: str
) -> list[Telemetry]:
    """Telemetry of one vehicle driving the edges at `speed`, one fix a second."""
    out = []
    t = start
    for edge in edges:
        offset = 0.0
        while offset < float(network.edge_length_m[edge]):
            x, y, theta = network.position_at(edge, offset)
            out.append(
                Telemetry(
                    vehicle_id=vehicle,
                    manufacturer="m",
                    ts=t,
                    received_at=t,
                    x=x,
                    y=y,
                    theta=theta,
                    map_id=network.frame.map_id,
                    speed_mps=speed,
                    full=True,
                    battery_pct=80.0,
                    driving=True,
                )
            )
            offset += speed
            t += 1.0
    return out


async def test_vehicles_crawling_along_a_road_make_routes_avoid_it(
    network: RoadNetwork, tmp_path: Path
) -> None:
    router = CCHRouter(network)
    origin, target = 0, network.n_nodes - 1
    before = router.route(origin, target)
    assert before is not None
    # The longest edge of the fastest route: the one traffic there will cost the most.
    slow = max(before.edges, key=lambda e: float(network.edge_length_m[e]))
    k = before.edges.index(slow)
    # ...and what follows it, so the vehicles drive on long enough for the visit to
    # be confirmed (no stop right after it).
    approach = list(before.edges[max(0, k - 1) : k + 4])
    now = 10_000.0
    log = MemoryEventLog(partitions=2)
    store = MemoryTrafficStore()
    metrics = Metrics()
    feed = TrafficFeed(network, store, "p1", clock=lambda: now, metrics=metrics)
    records = SqliteRecords(tmp_path / "h.sqlite")
    processor = Processor(
        log,
        MemoryLiveState(),
        records,
        MemoryDeadLetters(),
        network,
        metrics,
        clock=lambda: now,
        traffic=feed,
    )
    for i in range(3):  # three vehicles, one after the other, at 1.5 m/s
        for event in _drive(network, approach, 1.5, now - 900.0 + 200.0 * i, f"v{i}"):
            log.produce(TELEMETRY_TOPIC, event.vehicle_id, event_encoder.encode(event))
    while await processor.step(max_records=500):
        pass
    await records.close()
    assert feed.estimator.observations >= 3
    await feed.publish()
    follower = TrafficFollower(store, network.frame.map_id, [router], clock=lambda: now)
    assert await follower.refresh()
    assert not await follower.refresh()  # nothing new: the router is left alone
    assert router.traffic[slow] > 3.0
    after = router.route(origin, target)
    assert after is not None
    assert slow not in after.edges or after.time_s > before.time_s * 1.2
    assert after.time_s > before.time_s
    assert b"headway_traffic_observations_total" in metrics.render()
    slowed = metrics.registry.get_sample_value("headway_traffic_edges_slowed")
    assert slowed is not None
    assert slowed >= 1


async def test_stale_traffic_gives_way_to_free_flow(network: RoadNetwork) -> None:
    store = MemoryTrafficStore()
    clock = [1000.0]
    feed = TrafficFeed(network, store, "p1", rules=NO_STOP_WAIT, clock=lambda: clock[0])
    e = 5
    xy = [network.position_at(e, 1.0)[:2]] * 2
    feed.add(["a", "a"], [e, e + 1], [999.0, 1000.0], xy, [0.6, 0.6])
    await feed.publish()
    router = CCHRouter(network)
    follower = TrafficFollower(
        store, network.frame.map_id, [router], stale_after_s=60.0, clock=lambda: clock[0]
    )
    await follower.refresh()
    assert router.traffic[e] > 1.0
    clock[0] += 120.0  # the processor went away; its last word is too old now
    assert await follower.refresh()
    assert follower.current is None
    assert np.all(router.traffic == 1.0)


async def test_the_embedded_profile_wires_the_processor_to_its_router(
    network: RoadNetwork, tmp_path: Path
) -> None:
    from headway.bootstrap import build_embedded
    from headway.config import Settings

    platform = build_embedded(Settings(data_dir=tmp_path), network)
    feed, follower = platform.traffic_feed, platform.traffic_follower
    assert feed is not None
    assert follower is not None
    edge = int(np.argmax(network.edge_length_m))
    now = time.time()
    for event in _drive(
        network,
        [edge, int(network.out_edges(int(network.edge_dst[edge]))[0])],
        1.0,
        now - 300.0,
        "v",
    ):
        platform.log.produce(TELEMETRY_TOPIC, event.vehicle_id, event_encoder.encode(event))
    while await platform.processor.step(max_records=500):
        pass
    await feed.publish()
    assert await follower.refresh()
    router = platform.translator._router  # the router commands are planned on
    assert isinstance(router, CCHRouter)
    assert router.traffic[edge] > 3.0
    await platform.records.close()


async def test_unchanged_traffic_is_not_published_again_nor_applied_again(
    network: RoadNetwork,
) -> None:
    store = MemoryTrafficStore()
    clock = [1000.0]
    feed = TrafficFeed(
        network, store, "p1", rules=NO_STOP_WAIT, clock=lambda: clock[0], heartbeat_s=300.0
    )
    e = 5
    xy = [network.position_at(e, 1.0)[:2]] * 2
    feed.add(["a", "a"], [e, e + 1], [999.0, 1000.0], xy, [0.6, 0.6])
    applied: list[float] = []
    router = CCHRouter(network)
    follower = TrafficFollower(
        store,
        network.frame.map_id,
        [router],
        clock=lambda: clock[0],
        after_apply=[lambda: applied.append(clock[0])],
    )
    assert await feed.publish(force=False) == 1
    assert await follower.refresh()
    assert router.traffic[e] > 1.0
    clock[0] += 1.0  # a second later the factor has hardly decayed: nothing to say
    assert await feed.publish(force=False) == 1
    assert not await follower.refresh()
    assert applied == [1000.0]


async def test_a_heartbeat_keeps_a_source_alive_without_re_customising(
    network: RoadNetwork,
) -> None:
    store = MemoryTrafficStore()
    clock = [1000.0]
    feed = TrafficFeed(
        network, store, "p1", rules=NO_STOP_WAIT, clock=lambda: clock[0], heartbeat_s=300.0
    )
    applied: list[float] = []
    follower = TrafficFollower(
        store,
        network.frame.map_id,
        [CCHRouter(network)],
        clock=lambda: clock[0],
        after_apply=[lambda: applied.append(clock[0])],
    )
    assert await feed.publish(force=False) == 1
    assert await follower.refresh()
    clock[0] += 400.0
    assert await feed.publish(force=False) == 2  # the same factors, but time to say so
    assert not await follower.refresh()
    assert follower.current is not None
    assert (follower.current.version, follower.current.at) == (2, 1400.0)
    assert applied == [1000.0]
