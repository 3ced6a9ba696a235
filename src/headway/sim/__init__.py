"""Headway's vehicle simulator: a fleet of shuttles speaking VDA 5050 over MQTT.

An external client of the platform: it imports only ``headway.contracts`` (wire structs)
and ``headway.network`` (the map the vehicles carry). See ``package.md`` beside this file.
"""

from headway.sim.config import FaultRates, SimConfig, VehicleSpec
from headway.sim.errors import LinkError, SimError
from headway.sim.fleet import FleetSimulator, run_sim
from headway.sim.stats import SimStats

__all__ = [
    "FaultRates",
    "FleetSimulator",
    "LinkError",
    "SimConfig",
    "SimError",
    "SimStats",
    "VehicleSpec",
    "run_sim",
]
