"""Counters of one simulation run, for the CLI summary, logs and tests."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class SimStats:
    published: Counter[str] = field(default_factory=Counter)
    """Messages handed to the broker, by topic name (``state``, ``connection``, ...)."""
    dropped: Counter[str] = field(default_factory=Counter)
    """Messages not sent: link down, radio silence excluded, or socket backlog full."""
    faults: Counter[str] = field(default_factory=Counter)
    """Faults started, random or injected, by kind."""
    connects: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    connections_lost: int = 0
    """Links that dropped without the simulator asking (broker gone, network error)."""
    ticks: int = 0
    tick_errors: int = 0
    late_ticks: int = 0
    """Ticks that started more than one tick late: the fleet is too big for the CPU."""
    commands_received: Counter[str] = field(default_factory=Counter)
    """Orders and instant actions handed to a vehicle, by message name."""
    commands_missed: int = 0
    """Messages for a vehicle whose link was down (offline, radio silence)."""
    injected: Counter[str] = field(default_factory=Counter)
    """Link faults injected: ``drop_in``, ``drop_out``, ``duplicate``, ``delay``."""

    def summary(self) -> str:
        topics = ", ".join(f"{name} {count}" for name, count in sorted(self.published.items()))
        return (
            f"published: {topics or 'nothing'}; connects {self.connects}, "
            f"reconnects {self.reconnects}, failures {self.connect_failures}, "
            f"lost {self.connections_lost}; faults {sum(self.faults.values())}"
        )
