from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from pyproj import Geod

from headway.network import InvalidNetworkError, MapFrame

GEOD = Geod(ellps="WGS84")


@pytest.fixture
def frame() -> MapFrame:
    return MapFrame("headway-city", 48.20, 11.60)


def test_origin_is_zero(frame: MapFrame) -> None:
    x, y = frame.from_wgs84(48.20, 11.60)
    assert abs(x) < 1e-9
    assert abs(y) < 1e-9
    assert frame.to_wgs84(0.0, 0.0) == pytest.approx((48.20, 11.60), abs=1e-12)


def test_round_trip_is_below_a_millimetre(frame: MapFrame) -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform(-15_000, 15_000, size=(5000, 2))
    back = frame.from_wgs84_many(frame.to_wgs84_many(xy))
    assert np.abs(back - xy).max() < 1e-3
    for x, y in xy[:100]:
        lat, lon = frame.to_wgs84(x, y)
        assert math.dist(frame.from_wgs84(lat, lon), (x, y)) < 1e-3


def test_single_and_vectorised_conversions_agree(frame: MapFrame) -> None:
    xy = np.array([[0.0, 0.0], [1234.5, -987.6], [-4000.0, 4000.0]])
    latlon = frame.to_wgs84_many(xy)
    assert latlon.shape == (3, 2)
    for (x, y), row in zip(xy, latlon, strict=True):
        assert frame.to_wgs84(x, y) == pytest.approx(tuple(row), abs=1e-12)
    np.testing.assert_allclose(frame.from_wgs84_many(latlon), xy, atol=1e-6)


@pytest.mark.parametrize(
    ("x", "y", "azimuth"),
    [(1000.0, 0.0, 90.0), (0.0, 1000.0, 0.0), (-1000.0, 0.0, -90.0), (0.0, -1000.0, 180.0)],
)
def test_one_kilometre_in_the_frame_is_one_kilometre_on_the_ellipsoid(
    frame: MapFrame, x: float, y: float, azimuth: float
) -> None:
    lat, lon = frame.to_wgs84(x, y)
    fwd, _, dist = GEOD.inv(frame.origin_lon, frame.origin_lat, lon, lat)
    assert dist == pytest.approx(1000.0, abs=0.01)
    assert math.cos(math.radians(fwd - azimuth)) == pytest.approx(1.0, abs=1e-6)


def test_distances_away_from_the_origin_stay_true(frame: MapFrame) -> None:
    a = frame.to_wgs84(3000.0, 3000.0)
    b = frame.to_wgs84(4000.0, 3000.0)
    _, _, dist = GEOD.inv(a[1], a[0], b[1], b[0])
    assert dist == pytest.approx(1000.0, rel=1e-5)


def test_frames_are_values(frame: MapFrame) -> None:
    same = MapFrame("headway-city", 48.20, 11.60)
    assert frame == same
    assert hash(frame) == hash(same)
    assert frame != MapFrame("other", 48.20, 11.60)
    copy = pickle.loads(pickle.dumps(frame))
    assert copy == frame
    assert copy.to_wgs84(10.0, 20.0) == frame.to_wgs84(10.0, 20.0)
    with pytest.raises(AttributeError):
        frame.map_id = "changed"


@pytest.mark.parametrize(
    ("map_id", "lat", "lon"), [("", 48.2, 11.6), ("m", 91.0, 11.6), ("m", 48.2, 200.0)]
)
def test_bad_frames_are_refused(map_id: str, lat: float, lon: float) -> None:
    with pytest.raises(InvalidNetworkError):
        MapFrame(map_id, lat, lon)


def test_many_conversions_need_pairs(frame: MapFrame) -> None:
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        frame.to_wgs84_many(np.zeros(3))
