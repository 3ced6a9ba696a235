"""The live dispatch engine: offers rides by cheapest feasible insertion into the
vehicles' plans, keeps the plans in step with what the vehicles report, improves them
while they run, sends vehicles to charge and moves idle ones toward demand.

One writer: the engine is not thread-safe; the service owning it calls it from one
task and hands readers the immutable ``PlannedStop`` and ``RideView`` values it
returns. See docs/dispatch.md.
"""

from __future__ import annotations

from headway.network.graph import RoadNetwork
from headway.optimizer.dispatch.model import (
    DispatchConfig,
    Offer,
    PlannedStop,
    Refusal,
    RideRequest,
    RideView,
    VehicleSnapshot,
)
from headway.optimizer.dispatch.travel import TravelTimes


class DispatchEngine:
    """Plans for a fleet; see the module docstring."""

    def __init__(
        self, travel: TravelTimes, network: RoadNetwork, config: DispatchConfig | None = None
    ) -> None:
        self._travel = travel
        self._network = network
        self._config = config or DispatchConfig()

    @property
    def config(self) -> DispatchConfig:
        return self._config

    # fleet -------------------------------------------------------------------------

    def set_vehicle(self, snapshot: VehicleSnapshot) -> None:
        """Add a vehicle or update where and when it can next be diverted and its
        battery there; its plan is kept and re-timed from the new position."""
        raise NotImplementedError

    def remove_vehicle(self, vehicle_id: str, now_s: float) -> tuple[str, ...]:
        """Take a vehicle out of the fleet. Its booked rides not yet picked up move to
        other vehicles within their promises; returns the rides that could not be moved
        (its riders on board among them)."""
        raise NotImplementedError

    def vehicles(self) -> tuple[str, ...]:
        """Ids of the vehicles the engine plans for."""
        raise NotImplementedError

    # rides -------------------------------------------------------------------------

    def offer(self, request: RideRequest, now_s: float) -> Offer | Refusal:
        """The cheapest feasible insertion of the request into the plans, held as an
        offer until accepted, declined or expired; or a refusal with its reason."""
        raise NotImplementedError

    def accept(self, ride_id: str, now_s: float) -> RideView:
        """Book an offered ride: its pickup window and ride-time limit become promises."""
        raise NotImplementedError

    def decline(self, ride_id: str) -> None:
        """Drop an offer the passenger does not want; its seats are freed."""
        raise NotImplementedError

    def cancel(self, ride_id: str, now_s: float) -> frozenset[str]:
        """Cancel an offered or booked ride before pickup; returns the vehicles whose
        plan changed."""
        raise NotImplementedError

    def ride(self, ride_id: str) -> RideView:
        """The ride's phase, vehicle and planned pickup and drop-off times."""
        raise NotImplementedError

    # progress ----------------------------------------------------------------------

    def arrived(self, vehicle_id: str, node: int, now_s: float) -> None:
        """The vehicle is at ``node`` now: its plan is re-timed from here and any
        rebalancing or depot stop there is done."""
        raise NotImplementedError

    def picked_up(self, ride_id: str, now_s: float) -> None:
        """The rider is on board; their ride-time limit counts from now."""
        raise NotImplementedError

    def dropped_off(self, ride_id: str, now_s: float) -> None:
        """The rider has left the vehicle; the ride is completed."""
        raise NotImplementedError

    def charged(self, vehicle_id: str, soc: float, now_s: float) -> None:
        """The vehicle has finished charging at its charge stop, with ``soc``."""
        raise NotImplementedError

    # planning ----------------------------------------------------------------------

    def reoptimise(self, now_s: float, budget_s: float) -> frozenset[str]:
        """Expire stale offers, improve the plans within ``budget_s`` seconds of
        computing (never breaking a promise, never raising the plans' cost), send
        vehicles low on energy to charge and idle ones toward demand. Returns the
        vehicles whose plan changed."""
        raise NotImplementedError

    def plan(self, vehicle_id: str) -> tuple[PlannedStop, ...]:
        """The vehicle's planned stops in order, with their times."""
        raise NotImplementedError

    def plan_cost(self) -> float:
        """The objective the engine minimises, summed over the fleet (DispatchConfig)."""
        raise NotImplementedError
