"""A straight two-way street under the test feed's stops (49.41 N, 8.685 to 8.715 E)."""

from __future__ import annotations

import pytest

from headway.network import MapFrame, RoadClass, RoadNetwork


def street_network() -> RoadNetwork:
    frame = MapFrame("test-street", 49.41, 8.70)
    lons = [8.685 + 0.0025 * i for i in range(13)]
    xy = [frame.from_wgs84(49.41, lon) for lon in lons]
    src: list[int] = []
    dst: list[int] = []
    for i in range(len(xy) - 1):
        src += [i, i + 1]
        dst += [i + 1, i]
    n = len(src)
    return RoadNetwork(
        frame,
        xy,
        src,
        dst,
        [10.0] * n,
        [RoadClass.COLLECTOR] * n,
        ["Teststraße"] * n,
        [False] * n,
    )


@pytest.fixture(scope="session")
def street() -> RoadNetwork:
    return street_network()
