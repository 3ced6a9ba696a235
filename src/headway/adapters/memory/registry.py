"""Provisioned vehicles, in memory."""

from __future__ import annotations


class MemoryVehicleRegistry:
    def __init__(self) -> None:
        self._known: set[tuple[str, str]] = set()

    def is_known(self, manufacturer: str, serial: str) -> bool:
        return (manufacturer, serial) in self._known

    def register(self, manufacturer: str, serial: str) -> None:
        self._known.add((manufacturer, serial))

    def all(self) -> list[tuple[str, str]]:
        return sorted(self._known)
