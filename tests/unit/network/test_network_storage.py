from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from headway.network import RoadNetwork
from headway.network.errors import NetworkFileError
from headway.network.storage import read_header, save_network


def test_round_trip_keeps_everything(city: RoadNetwork, tmp_path: Path) -> None:
    path = city.save(tmp_path / "city", meta={"note": "synthetic"})
    assert path.suffix == ".npz"
    back = RoadNetwork.load(path)
    assert back.frame == city.frame
    np.testing.assert_array_equal(back.shape_xy, city.shape_xy)
    np.testing.assert_array_equal(back.edge_src, city.edge_src)
    np.testing.assert_array_equal(back.edge_speed_mps, city.edge_speed_mps)
    np.testing.assert_array_equal(back.edge_twin, city.edge_twin)
    assert back.edge_class == city.edge_class
    assert back.edge_name == city.edge_name
    assert back.stops == city.stops
    assert back.depots == city.depots
    assert back.chargers == city.chargers
    assert read_header(path)["meta"] == {"note": "synthetic"}


def test_bad_files_say_what_is_wrong(city: RoadNetwork, tmp_path: Path) -> None:
    with pytest.raises(NetworkFileError, match="no such network file"):
        RoadNetwork.load(tmp_path / "none.npz")
    junk = tmp_path / "junk.npz"
    junk.write_text("not a network")
    with pytest.raises(NetworkFileError, match="not a Headway network file"):
        RoadNetwork.load(junk)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    with pytest.raises(NetworkFileError, match="not a Headway network file"):
        RoadNetwork.load(other)
    good = save_network(city, tmp_path / "good.npz")
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(NetworkFileError):
        RoadNetwork.load(cut)


def test_newer_version_is_refused(city: RoadNetwork, tmp_path: Path) -> None:
    path = save_network(city, tmp_path / "new.npz")
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays["header"]))
    header["version"] = 99
    arrays["header"] = np.array(json.dumps(header))
    np.savez(path, **arrays)
    with pytest.raises(NetworkFileError, match="version 99"):
        RoadNetwork.load(path)
    assert zipfile.is_zipfile(path)
