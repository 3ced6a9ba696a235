"""Settings of a simulation run: fleet size, broker, clocks, vehicle and fault figures.

Durations and rates of what happens to a vehicle (driving, dwelling, charging, faults)
are in simulated time, which runs ``speedup`` times faster than the wall clock;
publishing intervals are in wall-clock seconds, because they load the broker.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FaultRates:
    """Random faults per vehicle-hour of simulated time, and how long each lasts.

    The defaults give a 1,000-vehicle fleet about 40 faults per simulated hour: a
    handful in a ten-minute demo, never a wall of red.
    """

    estop_per_hour: float = 0.01
    sensor_warning_per_hour: float = 0.01
    drive_fault_per_hour: float = 0.002
    radio_silence_per_hour: float = 0.01
    connection_lost_per_hour: float = 0.005
    estop_s: tuple[float, float] = (30.0, 120.0)
    sensor_warning_s: tuple[float, float] = (300.0, 1200.0)
    drive_fault_s: tuple[float, float] = (600.0, 1800.0)
    radio_silence_s: tuple[float, float] = (20.0, 90.0)
    connection_lost_s: tuple[float, float] = (5.0, 30.0)

    @property
    def total_per_hour(self) -> float:
        return (
            self.estop_per_hour
            + self.sensor_warning_per_hour
            + self.drive_fault_per_hour
            + self.radio_silence_per_hour
            + self.connection_lost_per_hour
        )


@dataclass(frozen=True)
class VehicleSpec:
    """One shuttle type: a small electric people mover (8 seats, 60 kWh)."""

    battery_kwh: float = 60.0
    consumption_kwh_per_km: float = 0.18
    max_speed_mps: float = 13.9
    acceleration_mps2: float = 1.0
    deceleration_mps2: float = 1.2
    low_battery_pct: float = 25.0
    charge_target_pct: float = 90.0
    initial_charge_pct: tuple[float, float] = (40.0, 100.0)
    dwell_s: tuple[float, float] = (20.0, 40.0)
    length_m: float = 4.9
    width_m: float = 2.1
    height_m: float = 2.6


@dataclass(frozen=True)
class LinkFaults:
    """Trouble on the radio link, drawn per message (wall-clock delays).

    ``drop_in`` and ``drop_out`` are the shares of messages lost towards the vehicle
    (orders, instant actions) and from it (states); ``duplicate`` and ``delay`` apply
    both ways.
    """

    drop_in: float = 0.0
    drop_out: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0
    delay_s: tuple[float, float] = (0.1, 0.5)

    def __post_init__(self) -> None:
        for name in ("drop_in", "drop_out", "duplicate", "delay"):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} is a share of messages: 0 to 1, got {share}")
        low, high = self.delay_s
        if not 0.0 <= low <= high:
            raise ValueError(
                f"delay_s must be (low, high) with 0 <= low <= high, got {self.delay_s}"
            )

    @property
    def any(self) -> bool:
        return bool(self.drop_in or self.drop_out or self.duplicate or self.delay)


@dataclass(frozen=True)
class SimConfig:
    vehicles: int = 50
    speedup: float = 1.0
    seed: int = 1
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_login: tuple[str, str] | None = None
    """(username, password) for a broker that wants one (Mosquitto in the stack)."""
    manufacturer: str = "headway-sim"
    state_interval_s: float = 1.0
    visualization_interval_s: float = 0.0
    capacity: int = 8
    faults: bool = True
    fault_rates: FaultRates = field(default_factory=FaultRates)
    vehicle: VehicleSpec = field(default_factory=VehicleSpec)
    tick_s: float = 0.2
    keepalive_s: int = 45
    connect_batch: int = 100
    connect_timeout_s: float = 10.0
    link_faults: LinkFaults = field(default_factory=LinkFaults)
    commands: bool = True
    """Listen for orders and instant actions from the platform."""
    roam: bool = True
    """Drive from stop to stop on their own until the first order (the demo's stand-in
    for a dispatcher); False: stand at the first stop and wait for orders."""

    def __post_init__(self) -> None:
        if self.vehicles < 1 or self.vehicles > 9999:
            raise ValueError(f"vehicles must be between 1 and 9999, got {self.vehicles}")
        if self.speedup <= 0:
            raise ValueError(f"speedup must be positive, got {self.speedup}")
        if self.state_interval_s <= 0:
            raise ValueError(f"state_interval_s must be positive, got {self.state_interval_s}")
        if self.visualization_interval_s < 0:
            raise ValueError("visualization_interval_s must be >= 0 (0 turns it off)")
        if not 1 <= self.capacity <= 99:
            raise ValueError(f"capacity must be between 1 and 99 seats, got {self.capacity}")
        if self.tick_s <= 0 or self.connect_batch < 1:
            raise ValueError("tick_s must be positive and connect_batch at least 1")
