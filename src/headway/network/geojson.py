"""The road network as GeoJSON, for the operator console's map.

The console draws Headway's own network (so it works offline and shows exactly the
roads the planner routes on). Both directions of a two-way road become one feature, and
coordinates are rounded to 6 decimals (about 0.1 m), which keeps a city of a few
thousand roads to a document the browser loads in one request.
"""

from __future__ import annotations

import numpy as np

from headway.network.graph import RoadNetwork

_DECIMALS = 6


def network_geojson(network: RoadNetwork) -> dict[str, object]:
    """A FeatureCollection of roads, stops, depots and chargers in WGS84, with a bbox.

    Road features carry "edges", the ids of the edges they stand for, so live traffic on
    an edge can be drawn on the right feature.
    """
    roads = [
        e for e in range(network.n_edges) if network.edge_twin[e] < 0 or e < network.edge_twin[e]
    ]
    counts = np.diff(network.shape_offsets)[np.asarray(roads, dtype=np.int64)]
    xy = np.concatenate([network.edge_shape(e) for e in roads]) if roads else np.empty((0, 2))
    place_xy = np.array(
        [(p.x, p.y) for p in network.stops]
        + [(p.x, p.y) for p in network.depots]
        + [(p.x, p.y) for p in network.chargers],
        dtype=np.float64,
    ).reshape(-1, 2)
    lonlat = _lonlat(network, np.concatenate((xy, place_xy)))
    road_lonlat = lonlat[: len(xy)].tolist()
    place_lonlat = lonlat[len(xy) :].tolist()

    features: list[dict[str, object]] = []
    at = 0
    for e, n in zip(roads, counts.tolist(), strict=True):
        twin = int(network.edge_twin[e])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": road_lonlat[at : at + n]},
                "properties": {
                    "kind": "road",
                    "id": e,
                    "class": network.edge_class[e].value,
                    "name": network.edge_name[e],
                    "speed_kmh": round(float(network.edge_speed_mps[e]) * 3.6, 1),
                    "oneway": bool(network.edge_oneway[e]),
                    "edges": [e] if twin < 0 else [e, twin],
                },
            }
        )
        at += n
    point_props: list[dict[str, object]] = [
        {"kind": "stop", "id": s.id, "name": s.name} for s in network.stops
    ]
    point_props += [
        {"kind": "depot", "id": d.id, "name": d.name, "capacity": d.capacity}
        for d in network.depots
    ]
    point_props += [
        {"kind": "charger", "id": c.id, "name": c.name, "plugs": c.plugs, "power_kw": c.power_kw}
        for c in network.chargers
    ]
    for props, coords in zip(point_props, place_lonlat, strict=True):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": coords},
                "properties": props,
            }
        )

    if len(lonlat):
        lo = lonlat.min(axis=0)
        hi = lonlat.max(axis=0)
        bbox = [float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])]
    else:
        lon, lat = network.frame.origin_lon, network.frame.origin_lat
        bbox = [lon, lat, lon, lat]
    return {"type": "FeatureCollection", "bbox": bbox, "features": features}


def _lonlat(network: RoadNetwork, xy: np.ndarray) -> np.ndarray:
    """(n, 2) frame metres to (n, 2) [lon, lat] rounded for output."""
    if len(xy) == 0:
        return np.empty((0, 2), dtype=np.float64)
    latlon = network.frame.to_wgs84_many(xy)
    return np.round(latlon[:, ::-1], _DECIMALS)
