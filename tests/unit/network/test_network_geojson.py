from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import pytest

from headway.network import RoadNetwork, network_geojson


@pytest.fixture(scope="module")
def doc(city: RoadNetwork) -> dict[str, Any]:
    # Through JSON, so the test sees exactly what a browser would.
    loaded: dict[str, Any] = json.loads(json.dumps(network_geojson(city)))
    return loaded


def _coordinates(feature: dict[str, Any]) -> list[list[float]]:
    geometry = feature["geometry"]
    if geometry["type"] == "Point":
        return [geometry["coordinates"]]
    coords: list[list[float]] = geometry["coordinates"]
    return coords


def test_is_a_feature_collection(doc: dict[str, Any]) -> None:
    assert doc["type"] == "FeatureCollection"
    for feature in doc["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] in {"LineString", "Point"}
        kind = feature["properties"]["kind"]
        assert (feature["geometry"]["type"] == "LineString") == (kind == "road")


def test_bbox_holds_every_coordinate(doc: dict[str, Any]) -> None:
    minlon, minlat, maxlon, maxlat = doc["bbox"]
    coords = np.array([c for f in doc["features"] for c in _coordinates(f)])
    assert coords[:, 0].min() == minlon
    assert coords[:, 1].min() == minlat
    assert coords[:, 0].max() == maxlon
    assert coords[:, 1].max() == maxlat
    # [lon, lat] order, around the city's origin.
    assert 11.5 < minlon < maxlon < 11.7
    assert 48.1 < minlat < maxlat < 48.3


def test_coordinates_are_rounded_to_6_decimals(doc: dict[str, Any]) -> None:
    for feature in doc["features"][:200]:
        for lon, lat in _coordinates(feature):
            assert round(lon, 6) == lon
            assert round(lat, 6) == lat


def test_one_feature_per_road_whatever_its_directions(
    doc: dict[str, Any], city: RoadNetwork
) -> None:
    roads = [f for f in doc["features"] if f["properties"]["kind"] == "road"]
    covered = Counter(e for f in roads for e in f["properties"]["edges"])
    assert sorted(covered) == list(range(city.n_edges))
    assert set(covered.values()) == {1}
    for feature in roads[:500]:
        props = feature["properties"]
        e = props["id"]
        assert props["edges"][0] == e
        assert props["oneway"] == bool(city.edge_oneway[e])
        assert props["oneway"] == (len(props["edges"]) == 1)
        assert props["class"] == city.edge_class[e].value
        assert props["name"] == city.edge_name[e]
        assert props["speed_kmh"] == pytest.approx(city.edge_speed_mps[e] * 3.6)
        start = city.frame.to_wgs84(*city.edge_shape(e)[0])
        assert feature["geometry"]["coordinates"][0] == pytest.approx(start[::-1], abs=1e-6)


def test_every_stop_depot_and_charger_is_present(doc: dict[str, Any], city: RoadNetwork) -> None:
    points = {
        (f["properties"]["kind"], f["properties"]["id"]): f
        for f in doc["features"]
        if f["properties"]["kind"] != "road"
    }
    assert {id_ for kind, id_ in points if kind == "stop"} == {s.id for s in city.stops}
    for depot in city.depots:
        assert points["depot", depot.id]["properties"] == {
            "kind": "depot",
            "id": depot.id,
            "name": depot.name,
            "capacity": depot.capacity,
        }
    for charger in city.chargers:
        props = points["charger", charger.id]["properties"]
        assert (props["plugs"], props["power_kw"]) == (charger.plugs, charger.power_kw)
    stop = city.stops[0]
    lon, lat = points["stop", stop.id]["geometry"]["coordinates"]
    assert (lat, lon) == pytest.approx(city.frame.to_wgs84(stop.x, stop.y), abs=1e-6)
