"""The shared GTFS feeds (../shared/data/gtfs): each imports, or is refused for a reason
a user can act on; the Heidelberg feed's stops land on the Heidelberg road network.

No services needed; reading real feeds takes seconds, not milliseconds.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest

from headway.adapters.gtfs_feed import read_gtfs
from headway.adapters.timetable_file import load_timetable
from headway.domain.transit import TransitFeed
from headway.entrypoints.cli import main

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
GTFS = SHARED / "gtfs"
HEIDELBERG_OSM = SHARED / "osm" / "heidelberg.osm.pbf"

pytestmark = pytest.mark.slow


def _check_consistent(feed: TransitFeed) -> None:
    """What the reader promises: every reference resolves, times never go back."""
    for trip in feed.trips.values():
        assert trip.route_id in feed.routes
        assert trip.service_id in feed.services
        assert all(stop in feed.stops for stop in trip.stop_ids)
        assert not trip.shape_id or trip.shape_id in feed.shapes
        for i, (arr, dep) in enumerate(zip(trip.arrivals, trip.departures, strict=True)):
            assert arr <= dep
            if i:
                assert trip.departures[i - 1] <= arr


def test_heidelberg_feed_on_the_heidelberg_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    network = tmp_path / "heidelberg.npz"
    assert main(["network", "import", str(HEIDELBERG_OSM), "--out", str(network)]) == 0
    capsys.readouterr()
    out = tmp_path / "vrn.timetable"
    code = main(
        ["gtfs", "import", str(GTFS / "vrn-heidelberg-cut.gtfs.zip"), "--network",
         str(network), "--out", str(out), "--json"]
    )  # fmt: skip
    stdout, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(stdout.splitlines()[-1])
    assert summary["routes"] == 7
    assert summary["stops"] == 392
    assert summary["trips"] == 1480
    assert summary["stop_times"] == 46_269
    assert summary["service_days"] > 100
    assert 0 < summary["blocks_on_day"] < summary["trips_on_day"]
    matched = summary["stops_matched"]
    # The feed reaches beyond the map (Mannheim, Weinheim); the city's stops match.
    assert 150 < matched["matched"] < 392
    assert matched["median_distance_m"] < 15
    feed, _ = load_timetable(out)
    _check_consistent(feed)
    bismarckplatz = [s for s in feed.stops.values() if "Bismarckplatz" in s.name]
    assert bismarckplatz
    assert all(s.place is not None for s in bismarckplatz)
    # Every trip of a block starts after the one before it ends.
    by_id = {t.id: t for t in feed.trips_on(dt.date.fromisoformat(summary["day"]))}
    for block in feed.blocks_on(dt.date.fromisoformat(summary["day"])):
        trips = [by_id[t] for t in block.trip_ids]
        assert all(a.end_s <= b.start_s for a, b in itertools.pairwise(trips))


def test_google_sample_feed() -> None:
    feed = read_gtfs(GTFS / "google-spec-sample-feed-1.gtfs.zip")
    _check_consistent(feed)
    assert len(feed.trips) == 11
    assert len(feed.frequencies) == 11
    saturday = dt.date(2007, 1, 6)
    assert feed.services_on(saturday) == {"FULLW", "WE"}
    assert feed.services_on(dt.date(2007, 6, 4)) == set()  # FULLW removed that Monday
    trips = feed.trips_on(saturday)
    stba = [t for t in trips if t.id.startswith("STBA@")]
    assert len(stba) == 32  # every 30 minutes, 06:00 to 21:30 (22:00 is the window's end)
    assert all(t.frequency_based for t in stba)
    blocks = {b.id: b.trip_ids for b in feed.blocks_on(saturday)}
    assert blocks["1"] == ("AB1", "BFC1")
    assert blocks["2"] == ("BFC2", "AB2")


@pytest.mark.parametrize(
    ("name", "trips"),
    [
        ("caltrain-2023.gtfs.zip", 176),
        ("cobblinc-routes-10-30.gtfs.zip", 317),
        ("kcm-2021-rt-subset.gtfs.zip", 1016),
        ("hsl-helsinki-2022-cropped.gtfs.zip", 3187),
    ],
)
def test_other_real_feeds(name: str, trips: int) -> None:
    feed = read_gtfs(GTFS / name)
    _check_consistent(feed)
    assert len(feed.trips) == trips
    day = feed.busiest_day()
    assert day is not None
    assert feed.blocks_on(day)


@pytest.mark.parametrize(
    "name", ["ctran-flex-2025.gtfs.zip", "cobblinc-scheduled-deviated-flex.gtfs"]
)
def test_flex_feeds_import_with_their_flexible_trips_counted_out(name: str) -> None:
    feed = read_gtfs(GTFS / name)
    assert feed.ignored["flexible trips (GTFS-Flex)"] > 0
    _check_consistent(feed)
