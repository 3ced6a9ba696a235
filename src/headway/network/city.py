"""A deterministic synthetic suburban city: the default service area when no map is given.

The layout follows how North American and European suburbs are planned: a grid of
arterials about a kilometre apart carries through traffic and the bus routes; each
square between them (a "superblock") is quartered by two collector roads meeting in its
middle; the quarters hold residential crescents, cul-de-sac pods and small grids, and
the superblocks around the centre hold a denser downtown grid. The two arterials through
the centre run as one-way pairs, as downtown couplets do. Stops line every arterial in
both directions, depots sit on the ring road at the city's edge, chargers are spread
over the collectors.

The same CityParams always give the same city (all randomness comes from one seeded
generator), so tests, demos and benchmarks can rely on node and edge ids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from headway.network.city_blocks import grid_block, grid_lines, loop_block, pod_block
from headway.network.city_builder import CityBuilder, DirectedEdges, Line, Point, Quad
from headway.network.connectivity import largest_strong_component
from headway.network.errors import InvalidNetworkError
from headway.network.frame import MapFrame
from headway.network.graph import (
    DEFAULT_SPEED_KMH,
    Charger,
    Depot,
    RoadClass,
    RoadNetwork,
    Stop,
)
from headway.network.street_names import CROSSTOWN_ROADS, StreetNamer, ordinal

ART = RoadClass.ARTERIAL
COL = RoadClass.COLLECTOR


@dataclass(frozen=True, slots=True)
class CityParams:
    """What to generate. The defaults give an 8 km x 8 km city of about 5,000 nodes."""

    seed: int = 7
    size_km: float = 8.0
    arterial_spacing_m: float = 1000.0
    jitter_m: float = 35.0
    """Standard deviation of the arterial junction positions, so streets are not ruled."""
    downtown_radius_m: float = 1200.0
    """Superblocks whose middle lies this close to the centre get the downtown grid."""
    one_way_pairs: bool = True
    """Run the two arterials through the centre as pairs of one-way carriageways."""
    pair_separation_m: float = 60.0
    stop_spacing_m: float = 400.0
    depots: int = 3
    chargers: int = 8
    map_id: str = "headway-city"
    origin_lat: float = 48.20
    origin_lon: float = 11.60

    def __post_init__(self) -> None:
        if not 1.0 <= self.size_km <= 40.0:
            raise InvalidNetworkError(f"size_km must be between 1 and 40, got {self.size_km}")
        if not 300.0 <= self.arterial_spacing_m <= self.size_km * 500.0:
            raise InvalidNetworkError(
                "arterial_spacing_m must be at least 300 m and at most half the city size"
            )
        if not 0.0 <= self.jitter_m <= self.arterial_spacing_m / 10.0:
            raise InvalidNetworkError("jitter_m must be between 0 and a tenth of the spacing")
        if not 20.0 <= self.pair_separation_m <= self.arterial_spacing_m / 5.0:
            raise InvalidNetworkError("pair_separation_m must be between 20 m and spacing / 5")
        if not 150.0 <= self.stop_spacing_m <= 2000.0:
            raise InvalidNetworkError("stop_spacing_m must be between 150 and 2000")
        if not 1 <= self.depots <= 8:
            raise InvalidNetworkError(f"depots must be between 1 and 8, got {self.depots}")
        if not 0 <= self.chargers <= 40:
            raise InvalidNetworkError(f"chargers must be between 0 and 40, got {self.chargers}")


DEFAULT_CITY = CityParams()

_STOP_KERB_M = 6.0
_DEPOT_ACCESS_M = 150.0
_SIDES = {"W": "West", "E": "East", "S": "South", "N": "North"}


@dataclass(frozen=True, slots=True)
class _StopDraft:
    node: int
    heading: float
    x: float
    y: float
    name: str


class _Arterial:
    """One arterial line: one two-way carriageway, or a one-way pair.

    Lines run south to north (N-S arterials) or west to east (E-W arterials); main[a][k]
    is carriageway a's stretch between crossings k and k + 1.
    """

    def __init__(self, name: str, tracks: list[tuple[float, int]], mids: list[float]) -> None:
        self.name = name
        self.tracks = tracks
        self.mids = mids
        self.main: list[list[Line]] = [[] for _ in tracks]
        self.mid_nodes: list[list[int]] = [[] for _ in tracks]


def generate_city(params: CityParams = DEFAULT_CITY) -> RoadNetwork:
    """Generate the synthetic city described by params."""
    return _CityPlan(params).build()


class _CityPlan:
    def __init__(self, params: CityParams) -> None:
        self.p = params
        self.rng = np.random.default_rng(params.seed)
        self.b = CityBuilder()
        self.namer = StreetNamer(self.rng)
        size = params.size_km * 1000.0
        self.m = max(2, round(size / params.arterial_spacing_m))
        self.half = size / 2.0
        self.step = size / self.m

    def build(self) -> RoadNetwork:
        cross = self._junctions()
        ns, ew = self._arterials()
        self._lay_arterials(cross, ns, ew)
        stops = self._stops(cross, ns, ew)
        depots = self._depots(ns, ew)
        self._superblocks(ns, ew)
        self.b.finish_lines()
        edges = self.b.directed_edges()
        chargers = self._chargers(edges)
        network = RoadNetwork(
            MapFrame(self.p.map_id, self.p.origin_lat, self.p.origin_lon),
            edges.node_xy,
            edges.src,
            edges.dst,
            [DEFAULT_SPEED_KMH[c] / 3.6 for c in edges.road_class],
            edges.road_class,
            edges.name,
            edges.oneway,
            stops=_resolve_stops(stops, edges),
            depots=depots,
            chargers=chargers,
        )
        return largest_strong_component(network)

    def _junctions(self) -> np.ndarray:
        """(m+1, m+1, 2) positions where arterial i (x) crosses arterial j (y)."""
        k = np.arange(self.m + 1) * self.step - self.half
        gx, gy = np.meshgrid(k, k, indexing="ij")
        sigma = self.p.jitter_m
        jitter = np.clip(
            self.rng.normal(0.0, sigma, (self.m + 1, self.m + 1, 2)), -2 * sigma, 2 * sigma
        )
        # A gentle swell on top of the jitter bends the arterials over kilometres.
        phase = self.rng.uniform(0, 2 * math.pi, 2)
        swell = 1.5 * sigma
        wx = swell * np.sin(2 * math.pi * gy / 3100.0 + phase[0])
        wy = swell * np.sin(2 * math.pi * gx / 2700.0 + phase[1])
        return np.stack((gx + wx, gy + wy), axis=-1) + jitter

    def _arterials(self) -> tuple[list[_Arterial], list[_Arterial]]:
        centre = self.m // 2
        w = self.p.pair_separation_m / 2.0
        crosstown = list(CROSSTOWN_ROADS)
        order = self.rng.permutation(len(crosstown))
        ns: list[_Arterial] = []
        ew: list[_Arterial] = []
        for i in range(self.m + 1):
            paired = self.p.one_way_pairs and i == centre
            # Southbound on the west carriageway, northbound on the east one.
            tracks = [(-w, -1), (w, 1)] if paired else [(0.0, 0)]
            mids = [0.5 + self.rng.uniform(-0.08, 0.08) for _ in range(self.m)]
            ns.append(_Arterial(self.namer.reserve(f"{ordinal(i + 1)} Avenue"), tracks, mids))
        for j in range(self.m + 1):
            paired = self.p.one_way_pairs and j == centre
            tracks = [(-w, 1), (w, -1)] if paired else [(0.0, 0)]
            mids = [0.5 + self.rng.uniform(-0.08, 0.08) for _ in range(self.m)]
            if j == centre:
                name = "Main Street"
            else:
                idx = j if j < centre else j - 1
                base = crosstown[int(order[idx % len(crosstown)])]
                name = base if idx < len(crosstown) else f"{base} {idx // len(crosstown) + 1}"
            ew.append(_Arterial(self.namer.reserve(name), tracks, mids))
        self.ns_collector = [self.namer.draw(("Drive", "Street", "Road")) for _ in range(self.m)]
        self.ew_collector = [self.namer.draw(("Drive", "Street", "Road")) for _ in range(self.m)]
        return ns, ew

    def _lay_arterials(self, cross: np.ndarray, ns: list[_Arterial], ew: list[_Arterial]) -> None:
        nodes: dict[tuple[int, int, int, int], int] = {}
        for i, a_line in enumerate(ns):
            for a, (dx, _) in enumerate(a_line.tracks):
                for j, e_line in enumerate(ew):
                    for c, (dy, _) in enumerate(e_line.tracks):
                        x, y = cross[i, j]
                        nodes[i, a, j, c] = self.b.node((float(x + dx), float(y + dy)))
        for i, art in enumerate(ns):
            for a, (_, direction) in enumerate(art.tracks):
                seq = [
                    (j, nodes[i, a, j, c]) for j, e in enumerate(ew) for c in range(len(e.tracks))
                ]
                self._lay_track(art, a, direction, seq)
        for j, art in enumerate(ew):
            for c, (_, direction) in enumerate(art.tracks):
                seq = [
                    (i, nodes[i, a, j, c]) for i, n in enumerate(ns) for a in range(len(n.tracks))
                ]
                self._lay_track(art, c, direction, seq)
        for arts, collectors in ((ns, self.ew_collector), (ew, self.ns_collector)):
            for art in arts:
                for k, mid in enumerate(art.mids):
                    for a in range(len(art.tracks)):
                        art.mid_nodes[a].append(art.main[a][k].attach(mid))
                    if len(art.tracks) == 2:
                        self.b.road(art.mid_nodes[0][k], art.mid_nodes[1][k], COL, collectors[k])

    def _lay_track(
        self, art: _Arterial, track: int, direction: int, seq: list[tuple[int, int]]
    ) -> None:
        for (k0, n0), (k1, n1) in pairwise(seq):
            line = self.b.line(n0, n1, ART, art.name, direction=direction)
            if k1 != k0:
                art.main[track].append(line)

    def _stops(
        self, cross: np.ndarray, ns: list[_Arterial], ew: list[_Arterial]
    ) -> list[_StopDraft]:
        drafts: list[_StopDraft] = []
        spacing = self.p.stop_spacing_m
        # cross[i, j] is indexed (N-S line, E-W line); centres[idx] is line idx's polyline.
        for arts, crossing, collectors, centres in (
            (ns, ew, self.ew_collector, cross),
            (ew, ns, self.ns_collector, cross.transpose(1, 0, 2)),
        ):
            for idx, art in enumerate(arts):
                centre = centres[idx]
                seg_len = np.hypot(*np.diff(centre, axis=0).T)
                cum = np.concatenate(([0.0], np.cumsum(seg_len)))
                s = spacing / 2.0
                while s < cum[-1]:
                    pos = s + self.rng.uniform(-0.1, 0.1) * spacing
                    s += spacing
                    k = int(np.clip(np.searchsorted(cum, pos, side="right") - 1, 0, self.m - 1))
                    margin = min(0.3, 60.0 / seg_len[k])
                    t = float(np.clip((pos - cum[k]) / seg_len[k], margin, 1.0 - margin))
                    features = [(0.0, crossing[k].name), (art.mids[k], collectors[k])]
                    features.append((1.0, crossing[k + 1].name))
                    cross_name = min(features, key=lambda f: abs(f[0] - t))[1]
                    for a, (_, direction) in enumerate(art.tracks):
                        line = art.main[a][k]
                        node = line.attach(t, 15.0)
                        for way in (1, -1) if direction == 0 else (direction,):
                            heading = line.heading if way > 0 else line.heading + math.pi
                            x, y = self.b.xy(node)
                            drafts.append(
                                _StopDraft(
                                    node,
                                    math.atan2(math.sin(heading), math.cos(heading)),
                                    x + _STOP_KERB_M * math.sin(heading),
                                    y - _STOP_KERB_M * math.cos(heading),
                                    f"{art.name} / {cross_name}",
                                )
                            )
        return drafts

    def _depots(self, ns: list[_Arterial], ew: list[_Arterial]) -> list[Depot]:
        sides = [str(s) for s in self.rng.permutation(list(_SIDES))]
        ring: dict[str, tuple[_Arterial, Point]] = {
            "W": (ns[0], (-1.0, 0.0)),
            "E": (ns[-1], (1.0, 0.0)),
            "S": (ew[0], (0.0, -1.0)),
            "N": (ew[-1], (0.0, 1.0)),
        }
        depots = []
        for k in range(self.p.depots):
            side = sides[k % 4]
            art, (ox, oy) = ring[side]
            seg = int(self.rng.integers(1, self.m - 1)) if self.m > 2 else 0
            t = (
                self.rng.uniform(0.25, 0.38)
                if self.rng.random() < 0.5
                else self.rng.uniform(0.62, 0.75)
            )
            gate = art.main[0][seg].attach(float(t), 30.0)
            gx, gy = self.b.xy(gate)
            yard = self.b.node((gx + ox * _DEPOT_ACCESS_M, gy + oy * _DEPOT_ACCESS_M))
            name = f"{_SIDES[side]} Depot" + (f" {k // 4 + 1}" if k >= 4 else "")
            self.b.road(gate, yard, RoadClass.SERVICE, f"{name} Road")
            x, y = self.b.xy(yard)
            depots.append(Depot(f"depot-{k + 1}", name, x, y, yard, int(self.rng.integers(20, 61))))
        return depots

    def _superblocks(self, ns: list[_Arterial], ew: list[_Arterial]) -> None:
        for i in range(self.m):
            for j in range(self.m):
                west, east, south, north = ns[i], ns[i + 1], ew[j], ew[j + 1]
                lw, mw, wm = west.main[-1][j], west.mids[j], west.mid_nodes[-1][j]
                le, me, em = east.main[0][j], east.mids[j], east.mid_nodes[0][j]
                ls, ms, sm = south.main[-1][i], south.mids[i], south.mid_nodes[-1][i]
                ln, mn, nm = north.main[0][i], north.mids[i], north.mid_nodes[0][i]
                xy = self.b.xy
                centre = _crossing(xy(sm), xy(nm), xy(wm), xy(em))
                c = self.b.node(
                    (centre[0] + self.rng.uniform(-20, 20), centre[1] + self.rng.uniform(-20, 20))
                )
                cs = self.b.line(sm, c, COL, self.ns_collector[i])
                cn = self.b.line(c, nm, COL, self.ns_collector[i])
                cw = self.b.line(wm, c, COL, self.ew_collector[j])
                ce = self.b.line(c, em, COL, self.ew_collector[j])
                a00, a10, a11, a01 = xy(lw.a), xy(ls.b), xy(le.b), xy(ln.a)
                quads = [
                    Quad(
                        (a00, xy(sm), xy(c), xy(wm)),
                        {"S": (ls, 0, ms), "E": (cs, 0, 1), "N": (cw, 0, 1), "W": (lw, 0, mw)},
                    ),
                    Quad(
                        (xy(sm), a10, xy(em), xy(c)),
                        {"S": (ls, ms, 1), "E": (le, 0, me), "N": (ce, 0, 1), "W": (cs, 0, 1)},
                    ),
                    Quad(
                        (xy(wm), xy(c), xy(nm), a01),
                        {"S": (cw, 0, 1), "E": (cn, 0, 1), "N": (ln, 0, mn), "W": (lw, mw, 1)},
                    ),
                    Quad(
                        (xy(c), xy(em), a11, xy(nm)),
                        {"S": (ce, 0, 1), "E": (le, me, 1), "N": (ln, mn, 1), "W": (cn, 0, 1)},
                    ),
                ]
                mid_x = (a00[0] + a10[0] + a11[0] + a01[0]) / 4.0
                mid_y = (a00[1] + a10[1] + a11[1] + a01[1]) / 4.0
                downtown = math.hypot(mid_x, mid_y) <= self.p.downtown_radius_m
                lines = grid_lines(self.rng, 4)
                for q in quads:
                    if downtown:
                        grid_block(self.b, q, self.rng, self.namer, cells=4, lines=lines)
                    else:
                        self._fill_suburb(q)

    def _fill_suburb(self, q: Quad) -> None:
        r = self.rng.random()
        if r < 0.36:
            loop_block(self.b, q, self.rng, self.namer)
        elif r < 0.68:
            pod_block(self.b, q, self.rng, self.namer)
        elif r < 0.92:
            cells = int(self.rng.integers(3, 5))
            grid_block(self.b, q, self.rng, self.namer, cells=cells, stub_chance=0.3)
        # else: a park, a school or a lake; no streets.

    def _chargers(self, edges: DirectedEdges) -> list[Charger]:
        degree = np.bincount(edges.src, minlength=len(edges.node_xy))
        names: dict[int, str] = {}
        for e in np.flatnonzero([c == COL for c in edges.road_class]).tolist():
            for n in (int(edges.src[e]), int(edges.dst[e])):
                if degree[n] <= 3:
                    names.setdefault(n, edges.name[e])
        candidates = np.array(sorted(names), dtype=np.int64)
        if self.p.chargers == 0 or len(candidates) == 0:
            return []
        pts = edges.node_xy[candidates]
        cells = math.ceil(math.sqrt(self.p.chargers))
        cell = 2.0 * self.half / cells
        picked = self.rng.choice(
            cells * cells, size=min(self.p.chargers, cells * cells), replace=False
        )
        taken = np.zeros(len(candidates), dtype=bool)
        chargers = []
        for k, c in enumerate(picked.tolist()):
            tx = -self.half + (c % cells + 0.5 + self.rng.uniform(-0.2, 0.2)) * cell
            ty = -self.half + (c // cells + 0.5 + self.rng.uniform(-0.2, 0.2)) * cell
            d2 = (pts[:, 0] - tx) ** 2 + (pts[:, 1] - ty) ** 2
            d2[taken] = np.inf
            best = int(np.argmin(d2))
            taken[best] = True
            node = int(candidates[best])
            x, y = pts[best]
            chargers.append(
                Charger(
                    f"charger-{k + 1:02d}",
                    f"{names[node]} Charging Hub",
                    float(x),
                    float(y),
                    node,
                    int(self.rng.integers(2, 7)),
                    float(self.rng.choice([75.0, 150.0, 150.0, 300.0])),
                )
            )
        return chargers


def _crossing(a: Point, b: Point, c: Point, d: Point) -> Point:
    """Where line a-b meets line c-d (their midpoint average if they are parallel)."""
    r = (b[0] - a[0], b[1] - a[1])
    s = (d[0] - c[0], d[1] - c[1])
    den = r[0] * s[1] - r[1] * s[0]
    if abs(den) < 1e-9:
        return ((a[0] + b[0] + c[0] + d[0]) / 4.0, (a[1] + b[1] + c[1] + d[1]) / 4.0)
    u = ((c[0] - a[0]) * s[1] - (c[1] - a[1]) * s[0]) / den
    return a[0] + u * r[0], a[1] + u * r[1]


def _resolve_stops(drafts: list[_StopDraft], edges: DirectedEdges) -> list[Stop]:
    """Give each stop the arterial edge that arrives at its node in its direction."""
    arriving: dict[int, list[int]] = {}
    for e in range(len(edges.src)):
        if edges.road_class[e] == ART:
            arriving.setdefault(int(edges.dst[e]), []).append(e)
    stops = []
    for k, d in enumerate(drafts):
        best_edge: int | None = None
        best_cos = -2.0
        for e in arriving.get(d.node, []):
            sx, sy = edges.node_xy[edges.src[e]]
            dx, dy = edges.node_xy[edges.dst[e]]
            agree = math.cos(math.atan2(float(dy - sy), float(dx - sx)) - d.heading)
            if agree > best_cos:
                best_edge, best_cos = e, agree
        stops.append(Stop(f"stop-{k + 1:04d}", d.name, d.x, d.y, d.node, best_edge))
    return stops
