from __future__ import annotations

import pytest

from headway.network.graph import RoadNetwork
from headway.network.routing import DijkstraRouter

from .grid import grid_city


@pytest.fixture(scope="session")
def city() -> RoadNetwork:
    return grid_city()


@pytest.fixture(scope="session")
def router(city: RoadNetwork) -> DijkstraRouter:
    return DijkstraRouter(city)
