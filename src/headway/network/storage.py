"""Headway's own network file: one .npz holding a RoadNetwork and how it was made.

Arrays are stored as they are in memory (no pickles, so a file cannot run code when
loaded), with a small JSON header naming the format and its version. A reader refuses a
file of another format or a newer version with a message that says so, rather than
guessing. Loading costs one decompression and one RoadNetwork construction.

Version history: 1, the first.
"""

from __future__ import annotations

import json
import zipfile
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from headway.network.errors import InvalidNetworkError, NetworkFileError
from headway.network.frame import MapFrame
from headway.network.graph import Charger, Depot, RoadClass, RoadNetwork, Stop

FORMAT = "headway-network"
VERSION = 1
SUFFIX = ".npz"
_CLASSES = list(RoadClass)


def save_network(
    network: RoadNetwork, path: str | PathLike[str], meta: dict[str, Any] | None = None
) -> Path:
    """Write network to path (".npz" is added when missing); meta (JSON-able) is kept
    in the header, e.g. where the network came from. Returns the path written."""
    out = Path(path)
    if out.suffix != SUFFIX:
        out = out.with_name(out.name + SUFFIX)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "map_id": network.frame.map_id,
        "origin_lat": network.frame.origin_lat,
        "origin_lon": network.frame.origin_lon,
        "meta": meta or {},
    }
    names, name_code = np.unique(np.asarray(network.edge_name, dtype=str), return_inverse=True)
    class_code = np.array([_CLASSES.index(c) for c in network.edge_class], dtype=np.uint8)
    stops, depots, chargers = network.stops, network.depots, network.chargers
    arrays: dict[str, Any] = {
        "header": np.array(json.dumps(header)),
        "node_xy": network.node_xy,
        "edge_src": network.edge_src,
        "edge_dst": network.edge_dst,
        "edge_speed_mps": network.edge_speed_mps,
        "edge_class": class_code,
        "edge_name": name_code.astype(np.int32),
        "names": names,
        "edge_oneway": network.edge_oneway,
        "shape_xy": network.shape_xy,
        "shape_offsets": network.shape_offsets,
        "stop_id": np.array([s.id for s in stops], dtype=str),
        "stop_name": np.array([s.name for s in stops], dtype=str),
        "stop_xy": np.array([(s.x, s.y) for s in stops], dtype=np.float64).reshape(-1, 2),
        "stop_node": np.array([s.node for s in stops], dtype=np.int64),
        "stop_edge": np.array([-1 if s.edge is None else s.edge for s in stops], dtype=np.int64),
        "depot_id": np.array([d.id for d in depots], dtype=str),
        "depot_name": np.array([d.name for d in depots], dtype=str),
        "depot_xy": np.array([(d.x, d.y) for d in depots], dtype=np.float64).reshape(-1, 2),
        "depot_node": np.array([d.node for d in depots], dtype=np.int64),
        "depot_capacity": np.array([d.capacity for d in depots], dtype=np.int64),
        "charger_id": np.array([c.id for c in chargers], dtype=str),
        "charger_name": np.array([c.name for c in chargers], dtype=str),
        "charger_xy": np.array([(c.x, c.y) for c in chargers], dtype=np.float64).reshape(-1, 2),
        "charger_node": np.array([c.node for c in chargers], dtype=np.int64),
        "charger_plugs": np.array([c.plugs for c in chargers], dtype=np.int64),
        "charger_kw": np.array([c.power_kw for c in chargers], dtype=np.float64),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with tmp.open("wb") as fh:
        np.savez_compressed(fh, **arrays)
    tmp.replace(out)
    return out


def read_header(path: str | PathLike[str]) -> dict[str, Any]:
    """The JSON header of a network file, checked for format and version."""
    with _open(Path(path)) as data:
        return _header(Path(path), data)


def load_network(path: str | PathLike[str]) -> RoadNetwork:
    """Read a network written by save_network; NetworkFileError when that fails."""
    file = Path(path)
    with _open(file) as data:
        header = _header(file, data)
        try:
            a = {k: data[k] for k in data.files}
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise NetworkFileError(f"{file}: damaged network file ({exc})") from None
    try:
        offsets = a["shape_offsets"]
        shapes = np.split(a["shape_xy"], offsets[1:-1]) if len(offsets) > 1 else []
        names = a["names"].tolist()
        return RoadNetwork(
            MapFrame(header["map_id"], header["origin_lat"], header["origin_lon"]),
            a["node_xy"],
            a["edge_src"],
            a["edge_dst"],
            a["edge_speed_mps"],
            [_CLASSES[c] for c in a["edge_class"].tolist()],
            [names[i] for i in a["edge_name"].tolist()],
            a["edge_oneway"],
            edge_shapes=shapes,
            stops=[
                Stop(i, n, float(x), float(y), int(node), None if edge < 0 else int(edge))
                for i, n, (x, y), node, edge in zip(
                    a["stop_id"].tolist(),
                    a["stop_name"].tolist(),
                    a["stop_xy"].tolist(),
                    a["stop_node"].tolist(),
                    a["stop_edge"].tolist(),
                    strict=True,
                )
            ],
            depots=[
                Depot(i, n, float(x), float(y), int(node), int(cap))
                for i, n, (x, y), node, cap in zip(
                    a["depot_id"].tolist(),
                    a["depot_name"].tolist(),
                    a["depot_xy"].tolist(),
                    a["depot_node"].tolist(),
                    a["depot_capacity"].tolist(),
                    strict=True,
                )
            ],
            chargers=[
                Charger(i, n, float(x), float(y), int(node), int(plugs), float(kw))
                for i, n, (x, y), node, plugs, kw in zip(
                    a["charger_id"].tolist(),
                    a["charger_name"].tolist(),
                    a["charger_xy"].tolist(),
                    a["charger_node"].tolist(),
                    a["charger_plugs"].tolist(),
                    a["charger_kw"].tolist(),
                    strict=True,
                )
            ],
        )
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        if isinstance(exc, InvalidNetworkError):
            raise NetworkFileError(f"{file}: inconsistent network file ({exc})") from None
        raise NetworkFileError(f"{file}: damaged network file ({exc!r})") from None


class _open:
    """np.load as a context manager that turns every read failure into NetworkFileError."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.data: Any = None
        self.fh: BinaryIO

    def __enter__(self) -> Any:
        if not self.file.is_file():
            raise NetworkFileError(f"{self.file}: no such network file")
        self.fh = self.file.open("rb")
        try:
            self.data = np.load(self.fh, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            self.fh.close()
            raise NetworkFileError(
                f"{self.file}: not a Headway network file; make one with 'headway network import'"
            ) from None
        if not hasattr(self.data, "files"):
            self.fh.close()
            raise NetworkFileError(
                f"{self.file}: not a Headway network file; make one with 'headway network import'"
            )
        return self.data

    def __exit__(self, *exc: object) -> None:
        if self.data is not None and hasattr(self.data, "close"):
            self.data.close()
        self.fh.close()


def _header(file: Path, data: Any) -> dict[str, Any]:
    try:
        header = json.loads(str(data["header"]))
    except (KeyError, ValueError, OSError, zipfile.BadZipFile):
        raise NetworkFileError(
            f"{file}: not a Headway network file (no header); "
            "make one with 'headway network import'"
        ) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise NetworkFileError(f"{file}: not a Headway network file")
    version = header.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise NetworkFileError(
            f"{file}: network file version {version!r}; this Headway reads up to "
            f"version {VERSION}; upgrade Headway or import the map again"
        )
    return header
