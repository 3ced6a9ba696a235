"""Cordeau (2006) benchmark files: parsing, and translation to and from the solver's model.

Node ids are the file's own: 0 is the start depot, 1..n the pickups, n+i the drop-off of
request i, 2n+1 the end depot. Travel time and cost are the Euclidean distance in double
precision, as in the literature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from headway.optimizer.darp.errors import InvalidInstanceError
from headway.optimizer.darp.model import Plan, Problem, Request, Vehicle


@dataclass(frozen=True)
class Node:
    x: float
    y: float
    service: float
    load: int
    earliest: float
    latest: float


@dataclass(frozen=True)
class CordeauInstance:
    name: str
    vehicles: int
    requests: int
    max_route_duration: float
    capacity: int
    max_ride_time: float
    nodes: tuple[Node, ...]

    @property
    def end_depot(self) -> int:
        return 2 * self.requests + 1

    def distances(self) -> npt.NDArray[np.float64]:
        xy = np.array([(node.x, node.y) for node in self.nodes], dtype=np.float64)
        delta = xy[:, None, :] - xy[None, :, :]
        out: npt.NDArray[np.float64] = np.sqrt((delta**2).sum(axis=2))
        return out


def read_instance(path: str | Path) -> CordeauInstance:
    """Read a Cordeau-format file; raise InvalidInstanceError naming the line at fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise InvalidInstanceError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInstanceError(f"{path}: cannot read it as text ({exc})") from None
    return parse_instance(text, name=path.stem)


def parse_instance(text: str, name: str = "instance") -> CordeauInstance:
    lines = [(no, line.split()) for no, line in enumerate(text.splitlines(), start=1)]
    lines = [(no, fields) for no, fields in lines if fields]
    if not lines:
        raise InvalidInstanceError(f"{name}: empty file; expected a header 'K n T Q L'")
    header_no, header = lines[0]
    if len(header) != 5:
        raise InvalidInstanceError(
            f"{name} line {header_no}: header needs 5 fields 'K n T Q L', got {len(header)}"
        )
    k, n, t, q, ride = _numbers(name, header_no, header)
    if k < 1 or n < 1 or k != int(k) or n != int(n) or q != int(q):
        raise InvalidInstanceError(f"{name} line {header_no}: K, n and Q must be whole, K,n >= 1")
    n_nodes = 2 * int(n) + 2
    if len(lines) - 1 != n_nodes:
        raise InvalidInstanceError(
            f"{name}: {int(n)} requests need {n_nodes} node lines, found {len(lines) - 1}"
        )
    nodes = []
    for expected, (no, fields) in enumerate(lines[1:]):
        if len(fields) != 7:
            raise InvalidInstanceError(
                f"{name} line {no}: a node needs 7 fields 'i x y d q e l', got {len(fields)}"
            )
        i, x, y, service, load, earliest, latest = _numbers(name, no, fields)
        if i != expected:
            raise InvalidInstanceError(
                f"{name} line {no}: node id {fields[0]}, expected {expected}"
            )
        if earliest > latest or service < 0 or load != int(load):
            raise InvalidInstanceError(
                f"{name} line {no}: need earliest <= latest, service >= 0 and a whole load"
            )
        nodes.append(Node(x, y, service, int(load), earliest, latest))
    for r in range(1, int(n) + 1):
        if nodes[r].load < 0 or nodes[r].load != -nodes[r + int(n)].load:
            raise InvalidInstanceError(
                f"{name}: request {r} must load q >= 0 at node {r} and unload -q at node {r + n:g}"
            )
    return CordeauInstance(name, int(k), int(n), t, int(q), ride, tuple(nodes))


def _numbers(name: str, no: int, fields: list[str]) -> list[float]:
    try:
        values = [float(field) for field in fields]
    except ValueError:
        raise InvalidInstanceError(
            f"{name} line {no}: not a number in {' '.join(fields)!r}"
        ) from None
    if not all(math.isfinite(value) for value in values):
        raise InvalidInstanceError(f"{name} line {no}: numbers must be finite")
    return values


def to_problem(instance: CordeauInstance) -> Problem:
    """The instance in the solver's model: location i is the file's node i."""
    n, nodes = instance.requests, instance.nodes
    requests = [
        Request(
            pickup=r,
            dropoff=r + n,
            pickup_window=(nodes[r].earliest, nodes[r].latest),
            dropoff_window=(nodes[r + n].earliest, nodes[r + n].latest),
            max_ride_time=instance.max_ride_time,
            load=nodes[r].load,
            pickup_service=nodes[r].service,
            dropoff_service=nodes[r + n].service,
        )
        for r in range(1, n + 1)
    ]
    start, end = nodes[0], nodes[instance.end_depot]
    vehicle = Vehicle(
        start=0,
        end=instance.end_depot,
        capacity=instance.capacity,
        start_window=(start.earliest, start.latest),
        end_window=(end.earliest, end.latest),
        max_duration=instance.max_route_duration,
    )
    return Problem(requests, [vehicle] * instance.vehicles, instance.distances())


def plan_to_routes(instance: CordeauInstance, plan: Plan) -> list[list[int]]:
    """Routes in the file's numbering, depots included; vehicles left idle are left out."""
    n = instance.requests
    routes = []
    for stops in plan.routes:
        if stops:
            visits = [stop.request + 1 + (0 if stop.pickup else n) for stop in stops]
            routes.append([0, *visits, instance.end_depot])
    return routes
