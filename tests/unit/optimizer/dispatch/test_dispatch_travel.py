"""The router adapter answers the port's questions as the router does."""

from __future__ import annotations

import numpy as np

from headway.network.cch_router import CCHRouter
from headway.optimizer.dispatch import RouterTravelTimes

from .conftest import N, blocks, grid


def test_every_question_gets_the_router_s_answer() -> None:
    router = CCHRouter(grid())
    travel = RouterTravelTimes(router, cache_rows=2)
    nodes = np.arange(N * N)
    expected = np.array([[blocks(a, b) for b in nodes] for a in nodes])
    assert travel.n_nodes == N * N
    np.testing.assert_allclose(travel.matrix(nodes, nodes), expected)
    for a in (0, 9, 63, 9):  # a cache of two rows: 9 is evicted and computed again
        np.testing.assert_allclose(travel.from_node(a), expected[a])
        np.testing.assert_allclose(travel.to_node(a), expected[:, a])
        np.testing.assert_allclose(travel.one_to_many(a, [1, 5, 40]), expected[a, [1, 5, 40]])
        assert travel.time(a, 17) == expected[a, 17]
        assert travel.time(17, a) == expected[17, a]
