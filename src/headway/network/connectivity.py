"""Reduce a road network to the part where every node can reach every other.

A vehicle sent to a node it can reach but not leave (or the reverse) strands the fleet,
so networks are cut to their largest strongly connected component before use. Stops,
depots and chargers on dropped nodes are dropped with them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.sparse.csgraph import connected_components

from headway.network.graph import RoadNetwork


def strong_components(network: RoadNetwork) -> tuple[int, np.ndarray]:
    """Number of strongly connected components and the component label of each node."""
    n, labels = connected_components(network.sparse_matrix(), directed=True, connection="strong")
    return int(n), np.asarray(labels)


def largest_strong_component(network: RoadNetwork) -> RoadNetwork:
    """The network restricted to its largest strongly connected component (the network
    itself when it is already strongly connected)."""
    n, labels = strong_components(network)
    if n == 1:
        return network
    keep = labels == np.argmax(np.bincount(labels))
    new_id = np.full(network.n_nodes, -1, dtype=np.int64)
    new_id[keep] = np.arange(int(keep.sum()))
    edges = np.flatnonzero(keep[network.edge_src] & keep[network.edge_dst])
    new_edge = np.full(network.n_edges, -1, dtype=np.int64)
    new_edge[edges] = np.arange(len(edges))

    stops = [
        replace(
            s,
            node=int(new_id[s.node]),
            edge=None if s.edge is None or new_edge[s.edge] < 0 else int(new_edge[s.edge]),
        )
        for s in network.stops
        if keep[s.node]
    ]
    depots = [replace(d, node=int(new_id[d.node])) for d in network.depots if keep[d.node]]
    chargers = [replace(c, node=int(new_id[c.node])) for c in network.chargers if keep[c.node]]
    return RoadNetwork(
        network.frame,
        network.node_xy[keep],
        new_id[network.edge_src[edges]],
        new_id[network.edge_dst[edges]],
        network.edge_speed_mps[edges],
        [network.edge_class[e] for e in edges.tolist()],
        [network.edge_name[e] for e in edges.tolist()],
        network.edge_oneway[edges],
        edge_shapes=[network.edge_shape(e) for e in edges.tolist()],
        stops=stops,
        depots=depots,
        chargers=chargers,
    )
