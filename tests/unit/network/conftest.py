"""Shared fixtures: one default city per test session (generating it takes ~0.2 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from headway.network import DijkstraRouter, RoadNetwork, generate_city


@pytest.fixture(scope="session")
def city() -> RoadNetwork:
    return generate_city()


@pytest.fixture
def router(city: RoadNetwork) -> DijkstraRouter:
    return DijkstraRouter(city)


@pytest.fixture
def tiny_osm(tmp_path: Path) -> Path:
    """A tiny hand-written OSM file: a square of two-way streets with a one-way diagonal,
    a footway, a private drive, a bus-only link and a one-way spur that cannot be left."""
    return write_osm(tmp_path / "tiny.osm")


# Node ids and positions (about 110 m apart near 49.4 N, 8.7 E).
_NODES = {
    1: (49.4000, 8.7000),
    2: (49.4000, 8.7015),
    3: (49.4010, 8.7015),
    4: (49.4010, 8.7000),
    5: (49.4005, 8.7030),  # end of the one-way spur (a trap: no way back)
    6: (49.4020, 8.7000),  # end of the footway
    7: (49.4020, 8.7015),  # end of the private drive
    8: (49.4005, 8.6985),  # on the bus-only link
}

_WAYS = [
    (101, [1, 2], {"highway": "primary", "name": "Hauptstraße", "maxspeed": "50"}),
    (102, [2, 3], {"highway": "residential", "name": "Ringweg"}),
    (103, [3, 4], {"highway": "tertiary", "name": "Bergstraße", "maxspeed": "DE:zone30"}),
    (104, [4, 1], {"highway": "residential", "name": "Talweg", "maxspeed": "20 mph"}),
    (105, [1, 3], {"highway": "residential", "name": "Diagonale", "oneway": "yes"}),
    (106, [2, 5], {"highway": "service", "oneway": "yes"}),
    (107, [4, 6], {"highway": "footway"}),
    (108, [3, 7], {"highway": "service", "access": "private"}),
    (109, [4, 8, 1], {"highway": "service", "access": "no", "psv": "yes"}),
]


def write_osm(path: Path) -> Path:
    """Write the tiny map to path."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for node, (lat, lon) in _NODES.items():
        lines.append(f'  <node id="{node}" version="1" lat="{lat}" lon="{lon}"/>')
    for way, refs, tags in _WAYS:
        lines.append(f'  <way id="{way}" version="1">')
        lines.extend(f'    <nd ref="{r}"/>' for r in refs)
        lines.extend(f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
