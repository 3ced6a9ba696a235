"""What the dispatch engine takes and gives: configuration, vehicle snapshots, ride
requests, offers and refusals, planned stops and the state of a ride.

All times are seconds on one clock chosen by the caller (the simulation's or the
service's); all places are node ids of the road network.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """The service's rules and the fleet's physics. Defaults suit the synthetic city."""

    max_wait_s: float = 600.0
    """A pickup no later than this after the requested earliest pickup."""
    max_ride_factor: float = 1.5
    max_ride_extra_s: float = 600.0
    """Longest ride: max(max_ride_factor x direct, direct + max_ride_extra_s)."""
    window_before_s: float = 60.0
    window_after_s: float = 240.0
    """The promised pickup window: from the planned pickup minus window_before_s (never
    before the earliest pickup) to the planned pickup plus window_after_s (never after
    the earliest pickup plus max_wait_s)."""
    dwell_s: float = 30.0
    """Time spent at each pickup or drop-off stop."""
    offer_ttl_s: float = 60.0
    """An offer not accepted within this time expires and its seats are freed."""
    wait_weight: float = 1.0
    ride_weight: float = 0.25
    """Plan cost = driving seconds + wait_weight x riders' waits + ride_weight x ride
    times; insertion and re-optimisation minimise it."""
    battery_kwh: float = 60.0
    energy_kwh_per_km: float = 0.25
    reserve_soc: float = 0.15
    """No plan may leave a vehicle unable to reach a charger above this state of charge."""
    charge_below_soc: float = 0.35
    """Below this (at the end of its plan) a vehicle is sent to charge."""
    charge_target_soc: float = 0.8
    top_speed_mps: float | None = None
    """Energy is estimated as driving time x top speed (an upper bound on the distance
    driven); None takes the network's fastest edge."""
    zone_size_m: float = 1000.0
    demand_half_life_s: float = 1800.0
    """Rebalancing: request origins counted per zone, decaying with this half-life."""
    rebalance_horizon_s: float = 900.0
    """Idle vehicles are spread to cover the demand expected over this horizon."""
    rebalance_max_move_s: float = 480.0
    rebalance_idle_s: float = 300.0
    """A vehicle idle for this long may be moved, at most this far (driving time)."""
    rebalance_slack: float = 0.5
    """Vehicles move from zones holding over (1 + slack) x their share of the idle
    fleet (plus one) to zones holding under (1 - slack) x theirs."""
    rebalance: bool = True
    rebalance_period_s: float = 60.0
    """Rebalancing runs within reoptimise at most once per period."""
    neighbourhood_vehicles: int = 6
    neighbourhood_time_s: float = 0.02
    """Re-optimisation also re-plans this many neighbouring vehicles at a time with the
    dial-a-ride solver, for at most this long each (0 vehicles: relocation only)."""
    pooling: bool = True
    """False: each ride goes to the nearest idle vehicle, alone (the baseline)."""
    max_stops: int = 24
    """Planned stops per vehicle, charge and rebalancing stops included."""


@dataclass(frozen=True, slots=True)
class VehicleSnapshot:
    """Where a vehicle can next be diverted (``node``) and from when (``ready_s``),
    its seats and its state of charge there (0..1)."""

    id: str
    node: int
    ready_s: float
    seats: int
    soc: float
    in_service: bool = True
    """False: the vehicle keeps the riders it has but takes no new ones."""


@dataclass(frozen=True, slots=True)
class RideRequest:
    """A passenger asks to go from ``origin`` to ``destination``, from ``earliest_pickup_s``."""

    id: str
    origin: int
    destination: int
    earliest_pickup_s: float
    seats: int = 1


class RefusalReason(StrEnum):
    UNROUTABLE = "unroutable"
    """Origin or destination unknown, equal, or not connected by road."""
    OUTSIDE_SERVICE_AREA = "outside_service_area"
    TOO_LATE = "too_late"
    """The earliest pickup lies in the past beyond what can still be served."""
    CAPACITY = "capacity"
    """More seats than any vehicle has."""
    NO_VEHICLE_IN_RANGE = "no_vehicle_in_range"
    """No vehicle can reach the pickup within the longest wait."""
    NO_FEASIBLE_INSERTION = "no_feasible_insertion"
    """Vehicles are in range but none can take the ride without breaking a promise,
    its seats or its battery reserve."""
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Refusal:
    """No offer: ``reason`` for machines, ``message`` for the passenger."""

    ride_id: str
    reason: RefusalReason
    message: str


@dataclass(frozen=True, slots=True)
class Offer:
    """A proposal to hold until ``expires_s``: pickup within ``pickup_window``, drop-off
    expected at ``dropoff_eta_s`` and no later than ``dropoff_latest_s``."""

    ride_id: str
    vehicle_id: str
    pickup_window: tuple[float, float]
    pickup_eta_s: float
    dropoff_eta_s: float
    dropoff_latest_s: float
    expires_s: float


class StopKind(StrEnum):
    PICK = "pick"
    DROP = "drop"
    CHARGE = "charge"
    REBALANCE = "rebalance"
    DEPOT = "depot"


@dataclass(frozen=True, slots=True)
class PlannedStop:
    """One stop of a vehicle's plan. ``eta_s`` is the planned arrival; ``window`` the
    times service must start within (a promised pickup window, a drop-off deadline, a
    charger slot); ``depart_s`` when the vehicle leaves after service."""

    node: int
    kind: StopKind
    ride_ids: tuple[str, ...]
    eta_s: float
    window: tuple[float, float]
    depart_s: float


class RidePhase(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    PICKED_UP = "picked_up"
    COMPLETED = "completed"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class RideView:
    """A ride as the engine sees it now: its phase, vehicle and planned times."""

    ride_id: str
    phase: RidePhase
    vehicle_id: str | None
    pickup_window: tuple[float, float]
    pickup_eta_s: float | None
    dropoff_eta_s: float | None
    dropoff_latest_s: float
    picked_up_s: float | None = None
    dropped_off_s: float | None = None
