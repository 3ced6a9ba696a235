"""Shared fixtures: one default city per test session (generating it takes ~0.2 s)."""

from __future__ import annotations

import pytest

from headway.network import DijkstraRouter, RoadNetwork, generate_city


@pytest.fixture(scope="session")
def city() -> RoadNetwork:
    return generate_city()


@pytest.fixture
def router(city: RoadNetwork) -> DijkstraRouter:
    return DijkstraRouter(city)
