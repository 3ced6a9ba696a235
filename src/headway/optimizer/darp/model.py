"""The dial-a-ride problem as the dispatcher states it, and the plan the solver returns.

Locations are indices into a square travel-time matrix, so the same model serves the
benchmark files (Euclidean distances) and the live city (road travel times). A vehicle
already on the road is a route in progress: its route starts where it will next be free,
at a fixed time, and the riders on board are requests with ``picked_up_at`` set.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from headway.optimizer.darp.errors import InvalidProblemError

Window = tuple[float, float]
OPEN: Window = (0.0, math.inf)


@dataclass(frozen=True, slots=True)
class Request:
    """One ride: where and when to pick up and drop off, and the longest allowed ride.

    ``vehicle`` pins the request to one vehicle (a promise already made, or a rider on
    board). ``picked_up_at`` marks a rider on board ``vehicle`` since that time: only the
    drop-off is left to plan, and its ride time still counts from then.
    """

    pickup: int
    dropoff: int
    pickup_window: Window = OPEN
    dropoff_window: Window = OPEN
    max_ride_time: float = math.inf
    load: int = 1
    pickup_service: float = 0.0
    dropoff_service: float = 0.0
    vehicle: int | None = None
    picked_up_at: float | None = None

    @property
    def on_board(self) -> bool:
        return self.picked_up_at is not None


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A vehicle's route begins at ``start`` within ``start_window`` and ends at ``end``."""

    start: int
    end: int
    capacity: int
    start_window: Window = OPEN
    end_window: Window = OPEN
    max_duration: float = math.inf


@dataclass(frozen=True)
class Problem:
    """Requests, vehicles and the travel times between locations (and arc costs, if they
    differ from travel times: the benchmark's objective is distance, as is its clock)."""

    requests: Sequence[Request]
    vehicles: Sequence[Vehicle]
    travel_time: npt.NDArray[np.float64]
    cost: npt.NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def arc_cost(self) -> npt.NDArray[np.float64]:
        return self.travel_time if self.cost is None else self.cost

    @classmethod
    def from_function(
        cls,
        requests: Sequence[Request],
        vehicles: Sequence[Vehicle],
        n_locations: int,
        travel_time: Callable[[int, int], float],
    ) -> Problem:
        """Build the matrix by calling ``travel_time(a, b)`` for every pair of locations."""
        matrix = np.array(
            [[travel_time(a, b) for b in range(n_locations)] for a in range(n_locations)],
            dtype=np.float64,
        ).reshape(n_locations, n_locations)
        return cls(requests, vehicles, matrix)


@dataclass(frozen=True, slots=True)
class Stop:
    """A visit in a planned route: ``time`` is the start of service in the earliest
    schedule that satisfies every constraint."""

    request: int
    pickup: bool
    time: float


@dataclass(frozen=True)
class Plan:
    """One route per vehicle (depots left out), the requests no vehicle can take, the cost."""

    routes: tuple[tuple[Stop, ...], ...]
    unassigned: tuple[int, ...]
    cost: float
    iterations: int = 0
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return not self.unassigned


def _validate(problem: Problem) -> None:
    matrix = problem.travel_time
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise InvalidProblemError(f"travel_time must be a square matrix, not {matrix.shape}")
    if not np.all(np.isfinite(matrix)) or np.any(matrix < 0):
        raise InvalidProblemError("travel times must be finite and non-negative")
    if problem.cost is not None and problem.cost.shape != matrix.shape:
        raise InvalidProblemError("cost must have the shape of travel_time")
    if not problem.vehicles:
        raise InvalidProblemError("at least one vehicle is needed")
    n = matrix.shape[0]
    for k, v in enumerate(problem.vehicles):
        if not (0 <= v.start < n and 0 <= v.end < n):
            raise InvalidProblemError(f"vehicle {k}: start/end outside the {n} locations")
        if v.capacity < 0 or not _window_ok(v.start_window) or not _window_ok(v.end_window):
            raise InvalidProblemError(f"vehicle {k}: negative capacity or a bad window")
    for r, q in enumerate(problem.requests):
        if not (0 <= q.pickup < n and 0 <= q.dropoff < n):
            raise InvalidProblemError(f"request {r}: pickup/drop-off outside the {n} locations")
        if q.load < 0 or q.pickup_service < 0 or q.dropoff_service < 0:
            raise InvalidProblemError(f"request {r}: negative load or service time")
        if not (_window_ok(q.pickup_window) and _window_ok(q.dropoff_window)):
            raise InvalidProblemError(f"request {r}: a window needs earliest <= latest")
        if q.vehicle is not None and not 0 <= q.vehicle < len(problem.vehicles):
            raise InvalidProblemError(f"request {r}: no vehicle {q.vehicle}")
        if q.on_board and q.vehicle is None:
            raise InvalidProblemError(f"request {r}: a rider on board needs its vehicle")


def _window_ok(window: Window) -> bool:
    earliest, latest = window
    return math.isfinite(earliest) and earliest <= latest
