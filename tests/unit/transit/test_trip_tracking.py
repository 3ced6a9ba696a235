"""Following a vehicle along its block from position fixes."""

from __future__ import annotations

from pathlib import Path

from headway.domain.transit import Block, TransitFeed
from headway.services.fixed_routes import service_day_start
from headway.services.trip_tracking import (
    StopEventKind,
    TripProgress,
    distance_m,
    observe,
    start_progress,
)
from tests.unit.transit.service_fixtures import DAY, WHERE, at, line_feed


def _events(
    progress: TripProgress, feed: TransitFeed, place: str, t: float
) -> list[tuple[str, str, int]]:
    lat, lon = WHERE[place]
    return [(e.kind.value, e.stop_id, e.index) for e in observe(progress, feed.stops, lat, lon, t)]


def test_arrive_depart_skip_and_next_trip(tmp_path: Path) -> None:
    feed = line_feed(tmp_path)
    block = Block("b", ("t1", "t2"), 0, 0, False)
    day = service_day_start(DAY, feed.timezone)
    progress = start_progress("v", block, feed.trips, day, at("08:00"))
    assert _events(progress, feed, "A", at("08:00")) == [("arrived", "A", 0)]
    assert _events(progress, feed, "A", at("08:00") + 20) == []
    assert _events(progress, feed, "between", at("08:01")) == [("departed", "A", 0)]
    # No fix near B: seen at C, B counts as passed and the trip ends at C.
    assert _events(progress, feed, "C", at("08:12")) == [("arrived", "C", 2)]
    assert progress.trip is not None
    assert progress.trip.id == "t2"
    assert progress.next_index == 0
    # t2 starts at C2 (the other side of the street, 15 m away): arrived at once.
    assert _events(progress, feed, "C", at("08:14")) == [("arrived", "C2", 0)]
    assert progress.delay_s == at("08:14") - at("08:15")


def test_a_late_vehicle_starts_with_a_trip_it_can_still_drive(tmp_path: Path) -> None:
    feed = line_feed(tmp_path)
    block = Block("b", ("t1", "t2", "t3"), 0, 0, False)
    day = service_day_start(DAY, feed.timezone)
    assert start_progress("v", block, feed.trips, day, at("08:30")).trip.id == "t2"  # type: ignore[union-attr]
    assert start_progress("v", block, feed.trips, day, at("08:38")).trip.id == "t3"  # type: ignore[union-attr]


def test_distance() -> None:
    assert abs(distance_m(49.41, 8.69, 49.41, 8.70) - 724.0) < 2.0
    assert StopEventKind.ARRIVED.value == "arrived"
