"""Errors raised by the road network package.

    NetworkError
     ├── InvalidNetworkError   the arrays handed to RoadNetwork do not describe a road graph
     ├── UnknownNodeError      a node id outside 0..n_nodes-1
     ├── UnknownEdgeError      an edge id outside 0..n_edges-1
     ├── InvalidTrafficError   traffic factors of the wrong shape or value
     ├── OsmImportError        an OSM file that cannot be read or holds no drivable roads
     ├── NetworkFileError      a network file that is missing, damaged or of another version
     └── OutsideMapError       a position too far from every road of the network

Each also derives from the matching built-in (ValueError or IndexError), so callers that
already catch those keep working.
"""

from __future__ import annotations


class NetworkError(Exception):
    """Base class for every error of headway.network."""


class InvalidNetworkError(NetworkError, ValueError):
    """The data given to build a road network is inconsistent."""


class UnknownNodeError(NetworkError, IndexError):
    """A node id that the network does not have."""

    def __init__(self, node: int, n_nodes: int) -> None:
        super().__init__(f"node {node} is not in the network; valid ids are 0..{n_nodes - 1}")
        self.node = node


class UnknownEdgeError(NetworkError, IndexError):
    """An edge id that the network does not have."""

    def __init__(self, edge: int, n_edges: int) -> None:
        super().__init__(f"edge {edge} is not in the network; valid ids are 0..{n_edges - 1}")
        self.edge = edge


class InvalidTrafficError(NetworkError, ValueError):
    """Traffic factors that cannot be applied to the network's edges."""


class OsmImportError(NetworkError, ValueError):
    """An OSM file that cannot be read, or that holds no drivable road network."""


class NetworkFileError(NetworkError, ValueError):
    """A network file that is missing, damaged, or written by another format version."""


class OutsideMapError(NetworkError, ValueError):
    """A position farther from every road than a caller accepts."""
