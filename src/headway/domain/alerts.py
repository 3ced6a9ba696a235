"""Alerts: conditions an operator must see, raised and cleared by the stream fold."""

from __future__ import annotations

from dataclasses import dataclass

from headway.domain.vehicles import AlertKind

SEVERITY: dict[AlertKind, str] = {
    AlertKind.LOW_BATTERY: "warning",
    AlertKind.OFFLINE: "warning",
    AlertKind.ESTOP: "critical",
    AlertKind.FAULT: "critical",
}


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    vehicle_id: str
    kind: AlertKind
    severity: str
    message: str
    raised_at: float
    cleared_at: float | None = None

    @property
    def active(self) -> bool:
        return self.cleared_at is None


def alert_id(vehicle_id: str, kind: AlertKind, raised_at: float) -> str:
    """Stable id: the same alert folded twice (a replay) gets the same id."""
    return f"{vehicle_id}:{kind.value}:{int(raised_at * 1000)}"
