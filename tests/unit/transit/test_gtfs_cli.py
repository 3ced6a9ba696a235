"""``headway gtfs import`` end to end on small feeds: summary, stops placed, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headway.adapters.timetable_file import load_timetable
from headway.entrypoints.cli import main
from headway.network import RoadNetwork
from tests.unit.transit.feeds import VALID, changed, write_zip


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_places_stops_and_summarises(
    tmp_path: Path, street: RoadNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    far = VALID["stops.txt"] + "FAR,Far away,49.5000,8.7000,,\n"
    feed = write_zip(tmp_path / "feed.zip", changed(stops_txt=far))
    network = street.save(tmp_path / "street.npz")
    out = tmp_path / "feed.timetable"
    code, stdout, err = _run(
        capsys, "gtfs", "import", str(feed), "--network", str(network), "--out", str(out),
        "--date", "2024-01-02", "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(stdout.splitlines()[-1])
    assert summary["stops"] == 5
    assert summary["trips"] == 5
    assert summary["stop_times"] == 13
    assert summary["service_days"] == 23
    assert summary["trips_on_day"] == 5
    assert summary["blocks_on_day"] == 2
    assert summary["blocks_from_feed"] == 1
    assert summary["stops_matched"]["matched"] == 4
    assert summary["stops_matched"]["stops"] == 5
    loaded, meta = load_timetable(out)
    assert loaded.stops["FAR"].place is None
    place = loaded.stops["C2"].place
    assert place is not None
    assert 5.0 < place.distance_m < 20.0
    assert meta["import"]["trips"] == 5


def test_busiest_day_is_summarised_without_a_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = write_zip(tmp_path / "feed.zip", VALID)
    code, stdout, _ = _run(capsys, "gtfs", "import", str(feed), "--out", str(tmp_path / "o"))
    assert code == 0
    assert "2024-01-02" in stdout
    assert "stops_matched" not in stdout


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (changed(routes_txt=None), "missing required file routes.txt"),
        (changed(trips_txt="route_id,trip_id\nL1,t1\n"), "missing required column(s) service_id"),
        (
            changed(stop_times_txt=VALID["stop_times.txt"] + "zz,09:00:00,09:00:00,A,1,1\n"),
            "trip_id 'zz' is not in trips.txt",
        ),
    ],
)
def test_a_broken_feed_exits_2_with_the_reason_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], expected: str
) -> None:
    feed = write_zip(tmp_path / "feed.zip", files)
    out = tmp_path / "feed.timetable"
    code, _, err = _run(capsys, "gtfs", "import", str(feed), "--out", str(out))
    assert code == 2
    assert expected in err
    assert "Traceback" not in err
    assert not out.exists()


def test_not_a_zip_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "feed.zip"
    junk.write_bytes(b"\x00\x01 definitely not a zip")
    code, _, err = _run(capsys, "gtfs", "import", str(junk), "--out", str(tmp_path / "o"))
    assert code == 2
    assert "not a zip archive or a folder" in err
