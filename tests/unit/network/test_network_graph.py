from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from headway.network import (
    Charger,
    Depot,
    InvalidNetworkError,
    MapFrame,
    RoadClass,
    RoadNetwork,
    Stop,
    UnknownNodeError,
    largest_strong_component,
    strong_components,
)

FRAME = MapFrame("test", 48.2, 11.6)
R = RoadClass.RESIDENTIAL


def _net(**overrides: Any) -> RoadNetwork:
    """A square 0-1-2-3 of two-way roads, a one-way spur 3 -> 4 and a dead end 4 -> 5."""
    args: dict[str, Any] = {
        "node_xy": [(0, 0), (100, 0), (100, 100), (0, 100), (-50, 150), (-100, 200)],
        "edge_src": [0, 1, 1, 2, 2, 3, 3, 0, 3, 4],
        "edge_dst": [1, 0, 2, 1, 3, 2, 0, 3, 4, 5],
        "edge_speed_mps": [10.0] * 10,
        "edge_class": [R] * 10,
        "edge_name": ["A", "A", "B", "B", "C", "C", "D", "D", "E", "F"],
        "edge_oneway": [False] * 8 + [True, True],
    }
    args.update(overrides)
    return RoadNetwork(
        FRAME,
        args.pop("node_xy"),
        args.pop("edge_src"),
        args.pop("edge_dst"),
        args.pop("edge_speed_mps"),
        args.pop("edge_class"),
        args.pop("edge_name"),
        args.pop("edge_oneway"),
        **args,
    )


def test_adjacency_lists_every_edge_once() -> None:
    net = _net()
    assert net.n_nodes == 6
    assert net.n_edges == 10
    for node in range(net.n_nodes):
        out = net.out_edges(node)
        assert sorted(out.tolist()) == np.flatnonzero(net.edge_src == node).tolist()
        assert (net.edge_dst[net.in_edges(node)] == node).all()
    with pytest.raises(UnknownNodeError):
        net.out_edges(6)


def test_twins_pair_the_directions_of_two_way_roads() -> None:
    net = _net()
    assert net.edge_twin.tolist() == [1, 0, 3, 2, 5, 4, 7, 6, -1, -1]
    assert net.edge_length_m.tolist() == pytest.approx([100] * 8 + [50 * 2**0.5] * 2)
    assert net.edge_time_s.tolist() == pytest.approx((net.edge_length_m / 10.0).tolist())


def test_arrays_are_read_only() -> None:
    net = _net()
    for arr in (net.node_xy, net.edge_src, net.edge_time_s, net.edge_oneway, net.out_edge_ids):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0


def test_inputs_are_copied() -> None:
    xy = np.array([(0.0, 0.0), (10.0, 0.0)])
    net = RoadNetwork(FRAME, xy, [0, 1], [1, 0], [5.0, 5.0], [R, R], ["A", "A"], [False, False])
    xy[1] = (99.0, 99.0)
    assert net.node_xy[1].tolist() == [10.0, 0.0]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"edge_dst": [1, 0, 2]}, "edge_dst has 3 entries"),
        ({"edge_src": [0, 1, 1, 2, 2, 3, 3, 0, 3, 9]}, "edge_src refers to nodes"),
        ({"edge_speed_mps": [0.0] * 10}, "speed above 0"),
        ({"node_xy": [(0, 0)] * 6}, "zero length"),
        ({"node_xy": [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (np.nan, 0)]}, "NaN"),
        ({"stops": [Stop("s", "S", 0, 0, 7)]}, "missing node"),
        ({"stops": [Stop("s", "S", 0, 0, 1), Stop("s", "S", 0, 0, 2)]}, "used twice"),
        ({"stops": [Stop("s", "S", 0, 0, 1, edge=1)]}, "does not end at its node"),
        ({"edge_shapes": [[(5, 5), (100, 0)]] * 10}, "must start at its source"),
    ],
)
def test_inconsistent_data_is_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidNetworkError, match=message):
        _net(**overrides)


def test_sparse_matrix_keeps_the_cheapest_parallel_edge() -> None:
    net = RoadNetwork(
        FRAME,
        [(0, 0), (100, 0)],
        [0, 0, 1],
        [1, 1, 0],
        [10.0, 20.0, 10.0],
        [R, RoadClass.ARTERIAL, R],
        ["slow", "fast", "back"],
        [True, True, True],
    )
    matrix = net.sparse_matrix()
    assert matrix[0, 1] == pytest.approx(5.0)
    assert matrix[1, 0] == pytest.approx(10.0)
    closed = net.sparse_matrix(np.array([np.inf, np.inf, 1.0]))
    assert closed.nnz == 1


def test_largest_component_drops_what_cannot_be_left_and_renumbers_places() -> None:
    net = _net(
        stops=[Stop("s1", "Square", 100, 95, 2, edge=2), Stop("s2", "Spur", -100, 200, 5)],
        depots=[Depot("d", "Depot", 0, 0, 0, 10)],
        chargers=[
            Charger("c1", "Hub", 0, 100, 3, 2, 150.0),
            Charger("c2", "Far", -50, 150, 4, 2, 50.0),
        ],
    )
    assert strong_components(net)[0] == 3
    core = largest_strong_component(net)
    assert core.n_nodes == 4
    assert core.n_edges == 8
    assert strong_components(core)[0] == 1
    assert [s.id for s in core.stops] == ["s1"]
    assert core.stops[0].edge is not None
    assert core.edge_dst[core.stops[0].edge] == core.stops[0].node
    assert [c.id for c in core.chargers] == ["c1"]
    assert core.depots == net.depots
    assert largest_strong_component(core) is core
