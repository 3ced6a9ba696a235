"""Street names for the synthetic city.

Planners, operators and passengers talk about places by street name ("the stop on 3rd
Avenue at Maple Drive"), so a generated city needs names that read like a real suburb
and do not repeat.
"""

from __future__ import annotations

import numpy as np

_BASES = (
    "Alder", "Ash", "Aspen", "Beech", "Birch", "Cedar", "Cherry", "Chestnut", "Cypress",
    "Elm", "Fir", "Hawthorn", "Hazel", "Hemlock", "Hickory", "Holly", "Juniper", "Larch",
    "Laurel", "Linden", "Magnolia", "Maple", "Mulberry", "Oak", "Olive", "Pine", "Poplar",
    "Rowan", "Spruce", "Sycamore", "Walnut", "Willow", "Yew", "Acacia", "Heather",
    "Lavender", "Primrose", "Bluebell", "Clover", "Daisy", "Foxglove", "Ivy", "Jasmine",
    "Lilac", "Lily", "Marigold", "Orchid", "Rose", "Tulip", "Violet", "Bramble", "Fern",
    "Sparrow", "Robin", "Wren", "Finch", "Heron", "Kestrel", "Lark", "Swallow", "Falcon",
    "Kingfisher", "Plover", "Osprey", "Meadow", "Orchard", "Brook", "Spring", "Valley",
    "Hill", "Ridge", "Glen", "Grove", "Field", "Forest", "Lake", "River", "Stone", "Mill",
    "Bridge", "Abbey", "Castle", "Chapel", "Garden", "Harbour", "Manor", "Park", "Quarry",
    "Windmill", "Granary", "Foundry", "Tannery", "Weaver", "Cooper", "Fletcher", "Thatcher",
    "Mason", "Potter", "Carter", "Sawyer", "Baker", "Taylor", "Turner", "Fisher",
    "Sunrise", "Sunset", "Highland", "Summit", "Crescent", "Harvest", "Evergreen",
    "Silver", "Golden", "Amber", "Copper", "Coral", "Pearl", "Jade", "Ruby", "Emerald",
)  # fmt: skip

_PLACE_PREFIXES = ("Upper", "Lower", "Old", "New", "Little", "Great", "East", "West")

CROSSTOWN_ROADS = (
    "Station Road", "Mill Road", "Church Road", "Park Road", "Kingsway", "Bridge Road",
    "Harbour Road", "Victoria Road", "Queensway", "Market Road", "Canal Road", "London Road",
)  # fmt: skip
"""Names for east-west arterials; the central one is Main Street."""


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{({1: 'st', 2: 'nd', 3: 'rd'}).get(n % 10, 'th')}"


class StreetNamer:
    """Draws street names that have not been used yet in this city."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def reserve(self, name: str) -> str:
        """Mark a name given elsewhere (an arterial, say) as taken."""
        self._used.add(name)
        return name

    def draw(self, suffixes: tuple[str, ...]) -> str:
        """A fresh '<base> <suffix>' name, suffix picked from suffixes."""
        for attempt in range(40):
            base = _BASES[int(self._rng.integers(len(_BASES)))]
            suffix = suffixes[int(self._rng.integers(len(suffixes)))]
            name = f"{base} {suffix}"
            if attempt >= 20:
                prefix = _PLACE_PREFIXES[int(self._rng.integers(len(_PLACE_PREFIXES)))]
                name = f"{prefix} {name}"
            if name not in self._used:
                self._used.add(name)
                return name
        n = len(self._used)
        return self.reserve(f"{_BASES[n % len(_BASES)]} {suffixes[0]} {n}")
