"""Build a RoadNetwork from an OpenStreetMap extract (.osm.pbf, .osm, .osm.gz, .osm.bz2).

pyosmium (libosmium) reads the file and resolves node locations; this module keeps the
ways a bus may drive (osm_tags), cuts them into edges at junctions, so graph nodes are
only where a choice is made and each edge keeps its full shape, and keeps the largest
strongly connected component. What was dropped is reported, not hidden.

Stops, depots and chargers are not in OSM in a form Headway can trust, so plausible ones
are derived (places.py) unless the caller asks for none.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

from headway.network.errors import OsmImportError
from headway.network.frame import MapFrame
from headway.network.graph import RoadClass, RoadNetwork
from headway.network.osm_tags import directions, road_class, road_name, speeds_kmh
from headway.network.places import derive_places

SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2")


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import read, what it kept and what it dropped."""

    source: str
    ways: int
    nodes_read: int
    edges_read: int
    km_read: float
    nodes: int
    edges: int
    km: float
    components_dropped: int
    stops: int
    depots: int
    chargers: int
    seconds: float

    @property
    def share_kept(self) -> float:
        """Share of the drivable road length (directed) left after the cut."""
        return self.km / self.km_read if self.km_read else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "ways": self.ways,
            "nodes_read": self.nodes_read,
            "edges_read": self.edges_read,
            "km_read": round(self.km_read, 3),
            "nodes": self.nodes,
            "edges": self.edges,
            "km": round(self.km, 3),
            "share_kept": round(self.share_kept, 4),
            "nodes_dropped": self.nodes_read - self.nodes,
            "edges_dropped": self.edges_read - self.edges,
            "components_dropped": self.components_dropped,
            "stops": self.stops,
            "depots": self.depots,
            "chargers": self.chargers,
            "seconds": round(self.seconds, 2),
        }


@dataclass(slots=True)
class _Way:
    refs: NDArray[np.int64]
    lonlat: NDArray[np.float64]
    cls: RoadClass
    name: str
    forward: bool
    backward: bool
    speed_fwd_kmh: float
    speed_bwd_kmh: float


def import_osm(
    path: str | Path,
    *,
    map_id: str | None = None,
    with_places: bool = True,
) -> tuple[RoadNetwork, ImportReport]:
    """Read an OSM file into a strongly connected RoadNetwork in a frame centred on it.

    Raises OsmImportError with a message for the user when the file is missing, is not
    OSM data, is damaged, or holds no drivable roads.
    """
    started = time.perf_counter()
    file = Path(path)
    if not file.is_file():
        raise OsmImportError(f"{file}: no such file")
    if not file.name.lower().endswith(SUFFIXES):
        raise OsmImportError(
            f"{file}: unknown file type; give an OSM file ending in {', '.join(SUFFIXES)}"
        )
    ways = _read_ways(file)
    if not ways:
        raise OsmImportError(f"{file}: no drivable roads in this file (is the area empty?)")
    raw = _cut_at_junctions(ways)
    frame = MapFrame(map_id or _map_id(file), *raw.centre())
    node_xy = frame.from_wgs84_many(raw.node_latlon)
    shape_xy = frame.from_wgs84_many(raw.shape_latlon)
    shapes = np.split(shape_xy, raw.shape_offsets[1:-1])
    lengths = np.array([_polyline_length(s) for s in shapes])
    km_read = float(lengths.sum()) / 1000.0
    usable = lengths > 0.0
    if not usable.any():
        raise OsmImportError(f"{file}: the drivable roads in this file have no length")

    n_read = len(node_xy)
    src, dst = raw.edge_src[usable], raw.edge_dst[usable]
    n_comp, labels = connected_components(
        csr_array((np.ones(len(src)), (src, dst)), shape=(n_read, n_read)),
        directed=True,
        connection="strong",
    )
    sizes = np.bincount(labels[np.concatenate((src, dst))], minlength=n_comp)
    main = int(np.argmax(sizes))
    keep_node = labels == main
    keep_edge = usable.copy()
    keep_edge[usable] = keep_node[src] & keep_node[dst]
    if keep_node.sum() < 2 or not keep_edge.any():
        raise OsmImportError(f"{file}: no two places in this file are connected by road")
    new_id = np.full(n_read, -1, dtype=np.int64)
    new_id[keep_node] = np.arange(int(keep_node.sum()))
    edges = np.flatnonzero(keep_edge)
    network = RoadNetwork(
        frame,
        node_xy[keep_node],
        new_id[raw.edge_src[edges]],
        new_id[raw.edge_dst[edges]],
        raw.edge_speed_kmh[edges] / 3.6,
        [raw.edge_class[e] for e in edges.tolist()],
        [raw.edge_name[e] for e in edges.tolist()],
        raw.edge_oneway[edges],
        edge_shapes=[shapes[e] for e in edges.tolist()],
    )
    if with_places:
        network = network.with_places(*derive_places(network))
    occupied = np.zeros(n_read, dtype=bool)
    occupied[raw.edge_src[usable]] = True
    occupied[raw.edge_dst[usable]] = True
    report = ImportReport(
        source=str(file),
        ways=len(ways),
        nodes_read=int(occupied.sum()),
        edges_read=int(usable.sum()),
        km_read=km_read,
        nodes=network.n_nodes,
        edges=network.n_edges,
        km=float(network.edge_length_m.sum()) / 1000.0,
        components_dropped=int((sizes > 0).sum()) - 1,
        stops=len(network.stops),
        depots=len(network.depots),
        chargers=len(network.chargers),
        seconds=time.perf_counter() - started,
    )
    return network, report


def _read_ways(file: Path) -> list[_Way]:
    import osmium  # heavy native module, loaded only when importing a map

    ways: list[_Way] = []
    try:
        processor = (
            osmium.FileProcessor(str(file), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in processor:
            if not isinstance(way, osmium.osm.Way):
                continue
            tags = {t.k: t.v for t in way.tags}
            cls = road_class(tags)
            if cls is None:
                continue
            refs: list[int] = []
            coords: list[tuple[float, float]] = []
            for nd in way.nodes:
                loc = nd.location
                if not loc.valid():
                    # A node outside the extract: keep the piece before it as its own way.
                    _add_way(ways, refs, coords, cls, tags)
                    refs, coords = [], []
                    continue
                refs.append(nd.ref)
                coords.append((loc.lon, loc.lat))
            _add_way(ways, refs, coords, cls, tags)
    except RuntimeError as exc:
        raise OsmImportError(f"{file}: not a readable OSM file ({exc})") from None
    return ways


def _add_way(
    ways: list[_Way],
    refs: list[int],
    coords: list[tuple[float, float]],
    cls: RoadClass,
    tags: dict[str, str],
) -> None:
    if len(refs) < 2:
        return
    way_dirs = directions(tags)
    fwd, bwd = speeds_kmh(tags)
    ways.append(
        _Way(
            refs=np.asarray(refs, dtype=np.int64),
            lonlat=np.asarray(coords, dtype=np.float64),
            cls=cls,
            name=road_name(tags),
            forward=way_dirs.forward,
            backward=way_dirs.backward,
            speed_fwd_kmh=fwd,
            speed_bwd_kmh=bwd,
        )
    )


@dataclass(slots=True)
class _RawGraph:
    node_latlon: NDArray[np.float64]
    shape_latlon: NDArray[np.float64]
    shape_offsets: NDArray[np.int64]
    edge_src: NDArray[np.int64]
    edge_dst: NDArray[np.int64]
    edge_speed_kmh: NDArray[np.float64]
    edge_class: list[RoadClass]
    edge_name: list[str]
    edge_oneway: NDArray[np.bool_]

    def centre(self) -> tuple[float, float]:
        lat, lon = self.node_latlon[:, 0], self.node_latlon[:, 1]
        return (
            float((lat.min() + lat.max()) / 2.0),
            float((lon.min() + lon.max()) / 2.0),
        )


def _cut_at_junctions(ways: list[_Way]) -> _RawGraph:
    """Split ways into edges at every node shared by two ways (or twice by one), at their
    ends, and at the middle of closed ways, so no edge is a loop onto itself."""
    all_refs = np.concatenate([w.refs for w in ways])
    uniq, counts = np.unique(all_refs, return_counts=True)
    junction = set(uniq[counts > 1].tolist())
    for w in ways:
        junction.add(int(w.refs[0]))
        junction.add(int(w.refs[-1]))
        if w.refs[0] == w.refs[-1] and len(w.refs) > 2:
            junction.add(int(w.refs[len(w.refs) // 2]))
    node_index: dict[int, int] = {}
    node_lonlat: list[tuple[float, float]] = []

    shapes: list[NDArray[np.float64]] = []
    src: list[int] = []
    dst: list[int] = []
    speed: list[float] = []
    classes: list[RoadClass] = []
    names: list[str] = []
    oneway: list[bool] = []

    def node_of(ref: int, lonlat: NDArray[np.float64]) -> int:
        idx = node_index.get(ref)
        if idx is None:
            idx = node_index[ref] = len(node_lonlat)
            node_lonlat.append((float(lonlat[0]), float(lonlat[1])))
        return idx

    for w in ways:
        refs = w.refs.tolist()
        cuts = [i for i, r in enumerate(refs) if r in junction]
        single = w.forward != w.backward
        for a, b in pairwise(cuts):
            piece = w.lonlat[a : b + 1]
            u = node_of(refs[a], w.lonlat[a])
            v = node_of(refs[b], w.lonlat[b])
            if w.forward:
                shapes.append(piece)
                src.append(u)
                dst.append(v)
                speed.append(w.speed_fwd_kmh)
                classes.append(w.cls)
                names.append(w.name)
                oneway.append(single)
            if w.backward:
                shapes.append(piece[::-1])
                src.append(v)
                dst.append(u)
                speed.append(w.speed_bwd_kmh)
                classes.append(w.cls)
                names.append(w.name)
                oneway.append(single)
    lonlat = np.asarray(node_lonlat, dtype=np.float64)
    offsets = np.zeros(len(shapes) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in shapes], out=offsets[1:])
    shape_lonlat = np.concatenate(shapes)
    return _RawGraph(
        node_latlon=lonlat[:, ::-1].copy(),
        shape_latlon=shape_lonlat[:, ::-1].copy(),
        shape_offsets=offsets,
        edge_src=np.asarray(src, dtype=np.int64),
        edge_dst=np.asarray(dst, dtype=np.int64),
        edge_speed_kmh=np.asarray(speed, dtype=np.float64),
        edge_class=classes,
        edge_name=names,
        edge_oneway=np.asarray(oneway, dtype=bool),
    )


def _polyline_length(xy: NDArray[np.float64]) -> float:
    d = np.diff(xy, axis=0)
    return float(np.hypot(d[:, 0], d[:, 1]).sum())


def _map_id(file: Path) -> str:
    name = file.name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name or "osm"
