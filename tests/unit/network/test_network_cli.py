from __future__ import annotations

import json
from pathlib import Path

import pytest

from headway.entrypoints.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_stats_and_route(
    tiny_osm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "tiny.npz"
    code, out, _ = _run(
        capsys, "network", "import", str(tiny_osm), "--out", str(out_file), "--json"
    )
    assert code == 0
    report = json.loads(out.splitlines()[-1])
    assert report["edges"] == 11
    assert report["components_dropped"] == 1

    code, out, _ = _run(capsys, "network", "stats", str(out_file), "--json")
    assert code == 0
    stats = json.loads(out.splitlines()[-1])
    assert stats["nodes"] == 4
    assert stats["edges"] == 11
    assert stats["km_of_road"] > 0
    assert 0 < stats["share_kept"] < 1

    code, out, _ = _run(
        capsys,
        "route",
        "--network",
        str(out_file),
        "--from",
        "49.4000,8.7000",
        "--to",
        "49.4010,8.7015",
        "--json",
    )
    assert code == 0
    route = json.loads(out.splitlines()[-1])
    assert route["time_s"] > 0
    assert route["distance_m"] > 100
    coords = route["geometry"]["coordinates"]
    assert coords[0] == pytest.approx([8.7, 49.4], abs=1e-5)
    assert coords[-1] == pytest.approx([8.7015, 49.401], abs=1e-5)


def test_synthetic_city_saves_and_routes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "city.npz"
    assert _run(capsys, "network", "synth", "--out", str(file))[0] == 0
    code, out, _ = _run(capsys, "network", "stats", str(file), "--json")
    assert code == 0
    assert json.loads(out)["stops"] > 0
    lat, lon = json.loads(out)["origin"]
    code, out, _ = _run(
        capsys,
        "route",
        "--network",
        str(file),
        "--from",
        f"{lat},{lon}",
        "--to",
        f"{lat + 0.01},{lon + 0.01}",
        "--engine",
        "dijkstra",
    )
    assert code == 0
    assert " s, " in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["network", "import", "{junk}", "--out", "{tmp}/x.npz"], "not a readable OSM file"),
        (["network", "import", "{tmp}/missing.osm.pbf", "--out", "{tmp}/x.npz"], "no such file"),
        (["network", "stats", "{junk}"], "not a Headway network file"),
        (
            ["route", "--network", "{net}", "--from", "48.1,11.5", "--to", "49.4,8.7"],
            "from the nearest road",
        ),
    ],
)
def test_bad_input_gives_a_message_not_a_traceback(
    argv: list[str],
    message: str,
    tmp_path: Path,
    tiny_osm: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"\x00\x01 not osm at all")
    net = tmp_path / "net.npz"
    assert main(["network", "import", str(tiny_osm), "--out", str(net)]) == 0
    capsys.readouterr()
    filled = [a.format(junk=junk, tmp=tmp_path, net=net) for a in argv]
    code, _, err = _run(capsys, *filled)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_bad_coordinates_are_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["route", "--network", "x.npz", "--from", "north", "--to", "1,2"])
    assert "LAT,LON" in capsys.readouterr().err
