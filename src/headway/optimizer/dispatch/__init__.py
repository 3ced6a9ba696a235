"""Live dispatch of on-demand rides: offers by insertion into the vehicles' plans,
continuous re-optimisation, charging and rebalancing (docs/dispatch.md).

Pure: no I/O. The engine reads travel times through the ``TravelTimes`` port;
``RouterTravelTimes`` adapts the road network's router to it.
"""

from headway.optimizer.dispatch.engine import DispatchEngine
from headway.optimizer.dispatch.errors import (
    DispatchError,
    RideStateError,
    UnknownRideError,
    UnknownVehicleError,
)
from headway.optimizer.dispatch.model import (
    DispatchConfig,
    Offer,
    PlannedStop,
    Refusal,
    RefusalReason,
    RidePhase,
    RideRequest,
    RideView,
    StopKind,
    VehicleSnapshot,
)
from headway.optimizer.dispatch.travel import RouterTravelTimes, TravelTimes

__all__ = [
    "DispatchConfig",
    "DispatchEngine",
    "DispatchError",
    "Offer",
    "PlannedStop",
    "Refusal",
    "RefusalReason",
    "RidePhase",
    "RideRequest",
    "RideStateError",
    "RideView",
    "RouterTravelTimes",
    "StopKind",
    "TravelTimes",
    "UnknownRideError",
    "UnknownVehicleError",
    "VehicleSnapshot",
]
