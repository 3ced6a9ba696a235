"""The Cordeau-format reader, on the real benchmark files and on broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from headway.optimizer.darp import (
    CordeauInstance,
    InvalidInstanceError,
    parse_instance,
    read_instance,
    to_problem,
)
from tests.unit.optimizer.darp_cases import tiny_text


def test_reads_every_benchmark_file(data_dir: Path) -> None:
    files = sorted(data_dir.glob("[ab]*-*.txt"))
    assert len(files) == 48
    for path in files:
        instance = read_instance(path)
        vehicles, requests = path.stem[1:].split("-")
        assert (instance.vehicles, instance.requests) == (int(vehicles), int(requests))
        assert len(instance.nodes) == 2 * instance.requests + 2
        n = instance.requests
        assert all(
            instance.nodes[r].load == -instance.nodes[r + n].load > 0 for r in range(1, n + 1)
        )


def test_header_and_nodes_of_a2_16(data_dir: Path) -> None:
    instance = read_instance(data_dir / "a2-16.txt")
    assert (instance.max_route_duration, instance.capacity, instance.max_ride_time) == (480, 3, 30)
    first = instance.nodes[1]
    assert (first.x, first.y, first.service, first.load) == (-1.198, -5.164, 3, 1)
    assert instance.nodes[instance.end_depot].latest == 480
    assert instance.distances()[0, 1] == pytest.approx((1.198**2 + 5.164**2) ** 0.5)


def test_b_instances_serve_for_as_long_as_the_load(data_dir: Path) -> None:
    instance = read_instance(data_dir / "b2-16.txt")
    assert instance.capacity == 6
    assert all(node.service == abs(node.load) for node in instance.nodes[1:-1])


def test_the_model_keeps_the_file_numbering(a2_16: CordeauInstance) -> None:
    problem = to_problem(a2_16)
    assert len(problem.requests) == 16
    assert len(problem.vehicles) == 2
    assert problem.requests[0].pickup == 1
    assert problem.requests[0].dropoff == 17
    assert problem.vehicles[0].end == 33


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("2 2 100 3\n", "header needs 5 fields"),
        ("2 x 100 3 30\n", "not a number"),
        (tiny_text().replace("4 4 0 1 -1 0 100\n", ""), "need 6 node lines, found 5"),
        (tiny_text().replace("3 3 0 1 -1 0 100", "3 3 0 1 -1"), "a node needs 7 fields"),
        (tiny_text().replace("3 3 0 1 -1 0 100", "7 3 0 1 -1 0 100"), "node id 7, expected 3"),
        (tiny_text().replace("3 3 0 1 -1 0 100", "3 3 0 1 -1 50 10"), "earliest <= latest"),
        (tiny_text().replace("3 3 0 1 -1 0 100", "3 3 0 1 -2 0 100"), "request 1 must load"),
        (tiny_text().replace("3 3 0 1 -1 0 100", "3 3 0 1 -1 0 inf"), "must be finite"),
    ],
)
def test_malformed_files_name_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidInstanceError, match=message):
        parse_instance(text, name="bad")


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInstanceError, match="no such file"):
        read_instance(tmp_path / "nothing.txt")
