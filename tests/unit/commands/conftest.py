from __future__ import annotations

import pytest

from headway.network.cch_router import CCHRouter
from headway.network.city import CityParams, generate_city
from headway.network.graph import RoadNetwork


@pytest.fixture(scope="session")
def town() -> RoadNetwork:
    """A small generated town (3 km, about 700 nodes) with stops, depots and chargers."""
    return generate_city(CityParams(seed=3, size_km=3.0))


@pytest.fixture(scope="session")
def town_router(town: RoadNetwork) -> CCHRouter:
    return CCHRouter(town)
