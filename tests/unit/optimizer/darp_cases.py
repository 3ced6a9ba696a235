"""A tiny hand-made dial-a-ride instance whose constraints each test can tighten."""

from __future__ import annotations

from headway.optimizer.darp import CordeauInstance, parse_instance


def tiny_text(
    capacity: int = 1,
    max_ride: float = 10,
    max_duration: float = 100,
    windows: dict[int, tuple[float, float]] | None = None,
) -> str:
    """Two requests on a line, two vehicles: 1 -> 3 and 2 -> 4, depot at the origin."""
    windows = windows or {}
    rows = [(0, 0, 0, 0), (1, 0, 1, 1), (2, 0, 1, 1), (3, 0, 1, -1), (4, 0, 1, -1), (0, 0, 0, 0)]
    lines = [f"2 2 {max_duration} {capacity} {max_ride}"]
    for i, (x, y, service, load) in enumerate(rows):
        earliest, latest = windows.get(i, (0, 100))
        lines.append(f"{i} {x} {y} {service} {load} {earliest} {latest}")
    return "\n".join(lines) + "\n"


def tiny(
    capacity: int = 1,
    max_ride: float = 10,
    max_duration: float = 100,
    windows: dict[int, tuple[float, float]] | None = None,
) -> CordeauInstance:
    return parse_instance(tiny_text(capacity, max_ride, max_duration, windows), name="tiny")
