"""Reading GTFS: a valid feed in full, and broken feeds refused with the reason."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from headway.adapters.gtfs_feed import parse_time, read_gtfs
from headway.adapters.timetable_file import MAGIC, load_timetable, save_timetable
from headway.domain.transit import FeedError
from tests.unit.transit.feeds import VALID, changed, write_folder, write_zip


def test_a_valid_feed_reads_whole(tmp_path: Path) -> None:
    feed = read_gtfs(write_zip(tmp_path / "feed.zip", VALID))
    assert feed.timezone == "Europe/Berlin"
    assert set(feed.stops) == {"A", "B", "C", "C2"}
    assert set(feed.trips) == {"t1", "t2", "t3", "night", "night2"}
    assert feed.routes["L1"].name == "1"
    assert feed.shapes["s1"].points == ((49.41, 8.69), (49.41, 8.71))
    t2 = feed.trips["t2"]
    assert t2.stop_ids == ("C2", "B", "A")
    assert t2.arrivals == (8 * 3600 + 900, 8 * 3600 + 1200, 8 * 3600 + 1560)
    assert t2.departures[1] == 8 * 3600 + 1260
    assert t2.direction_id == 1


def test_a_folder_reads_like_a_zip(tmp_path: Path) -> None:
    from_folder = read_gtfs(write_folder(tmp_path / "feed", VALID))
    from_zip = read_gtfs(write_zip(tmp_path / "feed.zip", VALID))
    assert replace(from_folder, name="x") == replace(from_zip, name="x")


def test_times_past_midnight_count_on_from_the_service_day(tmp_path: Path) -> None:
    feed = read_gtfs(write_zip(tmp_path / "feed.zip", VALID))
    assert feed.trips["night"].arrivals == (24 * 3600 + 3000, 25 * 3600 + 600)
    assert parse_time("25:10:00") == 90_600
    assert parse_time("6:05:00") == 6 * 3600 + 300
    for bad in ("8:5:00", "08:60:00", "08:00", "ab:00:00", "08:00:00:00", ""):
        with pytest.raises(ValueError, match=bad or "^$"):
            parse_time(bad)


def test_missing_intermediate_times_are_interpolated_and_not_timepoints(tmp_path: Path) -> None:
    t1 = read_gtfs(write_zip(tmp_path / "feed.zip", VALID)).trips["t1"]
    assert t1.arrivals == (28_800, 29_100, 29_400)
    assert t1.timepoints == (True, False, True)


def test_calendar_with_exceptions(tmp_path: Path) -> None:
    feed = read_gtfs(write_zip(tmp_path / "feed.zip", VALID))
    assert feed.services_on(dt.date(2024, 1, 2)) == {"WK"}  # a Tuesday
    assert feed.services_on(dt.date(2024, 1, 1)) == set()  # removed
    assert feed.services_on(dt.date(2024, 1, 6)) == set()  # a Saturday
    assert feed.services_on(dt.date(2024, 1, 7)) == {"WK"}  # a Sunday, added
    days = feed.service_days()
    assert len(days) == 23 - 1 + 1  # 23 weekdays in January 2024, one off, one added
    assert days[0] == dt.date(2024, 1, 2)
    assert [t.id for t in feed.trips_on(dt.date(2024, 1, 2))] == [
        "t1", "t2", "t3", "night", "night2",
    ]  # fmt: skip
    assert feed.trips_on(dt.date(2024, 1, 6)) == []


def test_blocks_from_the_feed_and_chained_at_terminals(tmp_path: Path) -> None:
    feed = read_gtfs(write_zip(tmp_path / "feed.zip", VALID))
    blocks = {b.trip_ids: b for b in feed.blocks_on(dt.date(2024, 1, 2))}
    # t1 ends at C at 08:10, t2 starts at C2 (the other side, 15 m away) at 08:15, and
    # ends at A at 08:26, in time for t3 at 08:30: one vehicle drives all three.
    assert set(blocks) == {("t1", "t2", "t3"), ("night", "night2")}
    assert blocks[("t1", "t2", "t3")].derived
    assert not blocks[("night", "night2")].derived
    assert blocks[("night", "night2")].id == "B9"
    # A layover longer than the gaps leaves each trip its own vehicle.
    assert len(feed.blocks_on(dt.date(2024, 1, 2), min_layover_s=300)) == 1 + 2


def test_a_feed_block_whose_trips_overlap_is_chained_anew(tmp_path: Path) -> None:
    trips = (
        VALID["trips.txt"]
        .replace("L1,WK,t1,0,,s1", "L1,WK,t1,0,X,s1")
        .replace("L1,WK,t3,0,,s1", "L1,WK,t3,0,X,s1")
    )
    times = ST.replace("t3,08:30:00,08:30:00", "t3,08:05:00,08:05:00")
    feed = read_gtfs(
        write_zip(tmp_path / "feed.zip", changed(trips_txt=trips, stop_times_txt=times))
    )
    blocks = feed.blocks_on(dt.date(2024, 1, 2))
    assert "X" not in {b.id for b in blocks}
    assert sorted(t for b in blocks for t in b.trip_ids) == ["night", "night2", "t1", "t2", "t3"]


def test_frequencies_expand_into_trips(tmp_path: Path) -> None:
    files = changed(
        frequencies_txt="trip_id,start_time,end_time,headway_secs,exact_times\n"
        "t3,09:00:00,10:00:00,1200,0\n"
    )
    feed = read_gtfs(write_zip(tmp_path / "feed.zip", files))
    runs = [t for t in feed.trips_on(dt.date(2024, 1, 2)) if t.id.startswith("t3@")]
    assert [t.id for t in runs] == ["t3@09:00:00", "t3@09:20:00", "t3@09:40:00"]
    assert runs[1].arrivals == (33_600, 33_900, 34_200)
    assert all(t.frequency_based for t in runs)


def test_flex_trips_are_left_out_and_counted(tmp_path: Path) -> None:
    files = changed(
        stop_times_txt=ST.replace(
            "trip_id,arrival_time,departure_time,stop_id,stop_sequence,timepoint\n",
            "trip_id,arrival_time,departure_time,stop_id,stop_sequence,timepoint,"
            "start_pickup_drop_off_window\n",
        )
        + "t3,,,zone_1,4,0,08:40:00\n"
    )
    feed = read_gtfs(write_zip(tmp_path / "feed.zip", files))
    assert "t3" not in feed.trips
    assert feed.ignored["flexible trips (GTFS-Flex)"] == 1


def test_saved_timetable_loads_back_equal(tmp_path: Path) -> None:
    feed = read_gtfs(write_zip(tmp_path / "feed.zip", VALID))
    path = save_timetable(feed, tmp_path / "tt.bin", meta={"k": 1})
    loaded, meta = load_timetable(path)
    assert loaded == feed
    assert meta == {"k": 1}
    (tmp_path / "junk.bin").write_bytes(b"PK\x03\x04 not ours")
    with pytest.raises(FeedError, match="not a Headway timetable"):
        load_timetable(tmp_path / "junk.bin")
    (tmp_path / "cut.bin").write_bytes(MAGIC + b"\x78\x9c broken")
    with pytest.raises(FeedError, match="import the feed again"):
        load_timetable(tmp_path / "cut.bin")


ST = VALID["stop_times.txt"]
BROKEN = {
    "missing file": (changed(stop_times_txt=None), "missing required file stop_times.txt"),
    "no calendar at all": (
        changed(calendar_txt=None, calendar_dates_txt=None),
        "missing required file calendar.txt or calendar_dates.txt",
    ),
    "missing column": (
        changed(stops_txt="stop_id,stop_name,stop_lat\nA,Alpha,49.41\n"),
        "missing required column(s) stop_lon",
    ),
    "dangling trip in stop_times": (
        changed(stop_times_txt=VALID["stop_times.txt"] + "ghost,09:00:00,09:00:00,A,1,1\n"),
        "stop_times.txt line 15: trip_id 'ghost' is not in trips.txt",
    ),
    "dangling stop in stop_times": (
        changed(stop_times_txt=ST.replace("t3,08:35:00,08:35:00,B", "t3,08:35:00,08:35:00,Z")),
        "stop_times.txt line 9: stop_id 'Z' is not in stops.txt",
    ),
    "dangling route in trips": (
        changed(trips_txt=VALID["trips.txt"] + "L9,WK,t9,0,,\n"),
        "trips.txt line 7: route_id 'L9' is not in routes.txt",
    ),
    "dangling service in trips": (
        changed(trips_txt=VALID["trips.txt"] + "L1,XX,t9,0,,\n"),
        "service_id 'XX' is in neither calendar.txt nor calendar_dates.txt",
    ),
    "dangling shape": (
        changed(trips_txt=VALID["trips.txt"].replace(",s1\n", ",s7\n", 1)),
        "shape_id 's7' is not in shapes.txt",
    ),
    "bad time": (
        changed(stop_times_txt=ST.replace("08:35:00,08:35:00", "08:3x:00,08:35:00")),
        "arrival_time '08:3x:00' is not a time like 25:10:00",
    ),
    "time going backwards": (
        changed(stop_times_txt=ST.replace("t3,08:40:00,08:40:00", "t3,08:33:00,08:33:00")),
        "trip 't3' reaches stop_sequence 3 before it leaves stop_sequence 2",
    ),
    "repeated stop_sequence": (
        changed(stop_times_txt=ST.replace("t3,08:40:00,08:40:00,C,3", "t3,08:40:00,08:40:00,C,2")),
        "trip 't3' has stop_sequence 2 twice",
    ),
    "no time at the end": (
        changed(stop_times_txt=ST.replace("t3,08:40:00,08:40:00,C,3,1", "t3,,,C,3,0")),
        "trip 't3' needs times at its first and last stop",
    ),
    "bad coordinates": (
        changed(stops_txt=VALID["stops.txt"].replace("49.4100,8.7000", "94.1,8.7")),
        "stop 'B' needs stop_lat and stop_lon in degrees",
    ),
    "bad calendar date": (
        changed(calendar_dates_txt="service_id,date,exception_type\nWK,2024-01-01,2\n"),
        "calendar_dates.txt line 2: date must be YYYYMMDD",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_feed_is_refused_with_its_reason(tmp_path: Path, case: str) -> None:
    files, reason = BROKEN[case]
    with pytest.raises(FeedError) as caught:
        read_gtfs(write_zip(tmp_path / "feed.zip", files))
    assert reason in str(caught.value)
    assert any(reason in problem for problem in caught.value.problems)


def test_every_problem_is_listed_not_only_the_first(tmp_path: Path) -> None:
    files = changed(
        stop_times_txt=VALID["stop_times.txt"]
        + "ghost,09:00:00,09:00:00,A,1,1\nt9,09:00:00,09:00:00,A,1,1\n",
        trips_txt=VALID["trips.txt"] + "L9,WK,t9,0,,\n",
    )
    with pytest.raises(FeedError) as caught:
        read_gtfs(write_zip(tmp_path / "feed.zip", files))
    assert len(caught.value.problems) == 2


def test_not_a_zip_and_nothing_there(tmp_path: Path) -> None:
    (tmp_path / "feed.zip").write_text("agency_id,agency_name\n")
    with pytest.raises(FeedError, match="not a zip archive or a folder"):
        read_gtfs(tmp_path / "feed.zip")
    with pytest.raises(FeedError, match="no such file or folder"):
        read_gtfs(tmp_path / "absent.zip")
