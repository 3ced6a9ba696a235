from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from headway.network import RoadClass
from headway.network.errors import OsmImportError
from headway.network.osm_import import import_osm
from headway.network.osm_tags import directions, is_open, parse_maxspeed, road_class, speeds_kmh

SHARED_OSM = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "osm"


@pytest.mark.parametrize(
    ("value", "kmh"),
    [
        ("50", 50.0),
        ("30 mph", 30 * 1.609344),
        ("DE:zone30", 30.0),
        ("DE:zone:20", 20.0),
        ("AT:urban", 50.0),
        ("DE:rural", 100.0),
        ("walk", 7.0),
        ("50;30", 50.0),
        ("none", None),
        ("signals", None),
        ("", None),
        (None, None),
        ("0", None),
        ("fast", None),
    ],
)
def test_maxspeed_values_people_write(value: str | None, kmh: float | None) -> None:
    assert parse_maxspeed(value) == (pytest.approx(kmh) if kmh is not None else None)


def test_speed_falls_back_to_the_road_class_and_honours_directions() -> None:
    assert speeds_kmh({"highway": "residential"}) == (30.0, 30.0)
    assert speeds_kmh({"highway": "primary", "maxspeed": "70", "maxspeed:backward": "50"}) == (
        70.0,
        50.0,
    )


def test_oneway_rules() -> None:
    assert directions({"highway": "residential"}) == directions({"oneway": "no"})
    assert not directions({"oneway": "yes"}).backward
    assert not directions({"oneway": "-1"}).forward
    assert not directions({"highway": "motorway"}).backward
    assert not directions({"highway": "primary", "junction": "roundabout"}).backward
    assert directions({"oneway": "yes", "oneway:bus": "no"}).backward


def test_access_most_specific_tag_wins_and_buses_may_use_psv_roads() -> None:
    assert is_open({})
    assert not is_open({"access": "private"})
    assert is_open({"access": "no", "psv": "yes"})
    assert not is_open({"access": "yes", "motor_vehicle": "no"})
    assert is_open({"motor_vehicle": "no", "bus": "designated"})
    assert road_class({"highway": "footway"}) is None
    assert road_class({"highway": "service", "service": "parking_aisle"}) is None
    assert road_class({"highway": "pedestrian"}) is None
    assert road_class({"highway": "secondary", "area": "yes"}) is None
    assert road_class({"highway": "secondary"}) is RoadClass.ARTERIAL


def test_tiny_map_keeps_drivable_strongly_connected_roads(tiny_osm: Path) -> None:
    net, report = import_osm(tiny_osm, with_places=False)
    names = set(net.edge_name)
    assert {"Hauptstraße", "Ringweg", "Bergstraße", "Talweg", "Diagonale"} <= names
    # The footway and private drive never enter; the spur is cut with its component.
    assert report.edges_read == 4 * 2 + 1 + 1 + 2  # square, diagonal, spur, bus link
    assert net.n_nodes == 4  # only junctions are nodes: the bus link's middle is shape
    bus = [e for e in range(net.n_edges) if len(net.edge_shape(e)) == 3]
    assert len(bus) == 2
    assert net.edge_twin[bus[0]] == bus[1]
    assert report.components_dropped == 1
    assert report.nodes_read - report.nodes == 1
    assert 0 < report.share_kept < 1
    diag = [e for e in range(net.n_edges) if net.edge_name[e] == "Diagonale"]
    assert len(diag) == 1
    assert net.edge_oneway[diag[0]]
    speeds = {net.edge_name[e]: net.edge_speed_mps[e] * 3.6 for e in range(net.n_edges)}
    assert speeds["Bergstraße"] == pytest.approx(30.0)
    assert speeds["Talweg"] == pytest.approx(20 * 1.609344)
    assert speeds["Ringweg"] == pytest.approx(30.0)
    assert net.frame.map_id == "tiny"
    lat, lon = net.frame.to_wgs84(*net.node_xy.mean(axis=0))
    assert lat == pytest.approx(49.4008, abs=1e-3)
    assert lon == pytest.approx(8.7005, abs=1e-3)


def test_gzipped_xml_reads_the_same(tmp_path: Path, tiny_osm: Path) -> None:
    plain = tiny_osm
    packed = tmp_path / "tiny.osm.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    a, _ = import_osm(plain, with_places=False)
    b, _ = import_osm(packed, with_places=False)
    assert a.n_edges == b.n_edges
    assert np.allclose(a.edge_length_m, b.edge_length_m)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("junk.osm.pbf", b"hello world, not a map", "not a readable OSM file"),
        ("page.osm", b"<html><body>no</body></html>", "not a readable OSM file"),
        ("empty.osm", b'<?xml version="1.0"?><osm version="0.6"></osm>', "no drivable roads"),
        ("notes.txt", b"x", "unknown file type"),
    ],
)
def test_bad_files_raise_a_clear_error(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(OsmImportError, match=message):
        import_osm(path)


def test_missing_and_truncated_files(tmp_path: Path, tiny_osm: Path) -> None:
    with pytest.raises(OsmImportError, match="no such file"):
        import_osm(tmp_path / "nowhere.osm.pbf")
    whole = gzip.compress(tiny_osm.read_bytes())
    cut = tmp_path / "cut.osm.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(OsmImportError, match="not a readable OSM file"):
        import_osm(cut)


def test_only_footways_is_an_empty_area(tmp_path: Path) -> None:
    path = tmp_path / "paths.osm"
    path.write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        '<node id="1" version="1" lat="49.4" lon="8.7"/>'
        '<node id="2" version="1" lat="49.401" lon="8.7"/>'
        '<way id="9" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>'
        "</osm>",
        encoding="utf-8",
    )
    with pytest.raises(OsmImportError, match="no drivable roads"):
        import_osm(path)


@pytest.mark.skipif(not (SHARED_OSM / "krems-at.osm.gz").exists(), reason="shared data absent")
def test_krems_xml_imports_with_places() -> None:
    net, report = import_osm(SHARED_OSM / "krems-at.osm.gz")
    assert net.n_nodes > 300
    assert net.n_edges > 600
    assert 0.5 < report.share_kept <= 1.0
    assert net.stops
    assert len(net.depots) >= 2
    assert len(net.chargers) >= 4
    for stop in net.stops:
        assert stop.edge is not None
        assert net.edge_dst[stop.edge] == stop.node
