"""What OpenStreetMap tags mean for a road vehicle: class, speed, direction, access.

Pure functions over a tag mapping, so the rules can be read and tested without a file.
They follow the OSM wiki's conventions for `highway`, `maxspeed`, `oneway`, `junction`
and the access hierarchy (`access` < `vehicle` < `motor_vehicle` < `motorcar`/`psv` <
`bus`: the most specific tag present wins). Headway's vehicles are buses and shuttles, so
roads open to `psv` or `bus` are drivable even where cars are barred.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from headway.network.graph import RoadClass

HIGHWAY_CLASS: Mapping[str, RoadClass] = MappingProxyType(
    {
        "motorway": RoadClass.MOTORWAY,
        "motorway_link": RoadClass.MOTORWAY,
        "trunk": RoadClass.TRUNK,
        "trunk_link": RoadClass.TRUNK,
        "primary": RoadClass.ARTERIAL,
        "primary_link": RoadClass.ARTERIAL,
        "secondary": RoadClass.ARTERIAL,
        "secondary_link": RoadClass.ARTERIAL,
        "tertiary": RoadClass.COLLECTOR,
        "tertiary_link": RoadClass.COLLECTOR,
        "unclassified": RoadClass.RESIDENTIAL,
        "residential": RoadClass.RESIDENTIAL,
        "road": RoadClass.RESIDENTIAL,
        "busway": RoadClass.COLLECTOR,
        "bus_guideway": RoadClass.COLLECTOR,
        "living_street": RoadClass.LIVING_STREET,
        "service": RoadClass.SERVICE,
    }
)
"""The `highway` values a road vehicle may drive on, and the class each maps to."""

DEFAULT_SPEED_KMH: Mapping[str, float] = MappingProxyType(
    {
        "motorway": 120.0,
        "motorway_link": 60.0,
        "trunk": 90.0,
        "trunk_link": 50.0,
        "primary": 50.0,
        "primary_link": 40.0,
        "secondary": 50.0,
        "secondary_link": 40.0,
        "tertiary": 50.0,
        "tertiary_link": 40.0,
        "unclassified": 40.0,
        "residential": 30.0,
        "road": 30.0,
        "busway": 50.0,
        "bus_guideway": 50.0,
        "living_street": 7.0,
        "service": 20.0,
    }
)
"""Speed assumed for a `highway` value when the way has no usable `maxspeed`."""

_NO_SERVICE = frozenset({"parking_aisle", "driveway", "drive-through", "emergency_access"})
_OPEN = frozenset({"yes", "permissive", "designated", "destination", "customers"})
_CLOSED = frozenset(
    {"no", "private", "agricultural", "forestry", "delivery", "discouraged", "use_sidepath"}
)
_ACCESS_KEYS = ("bus", "psv", "motorcar", "motor_vehicle", "vehicle", "access")
_WORDS_KMH: Mapping[str, float] = MappingProxyType(
    {"walk": 7.0, "urban": 50.0, "rural": 100.0, "motorway": 130.0, "living_street": 7.0}
)
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph|knots)?\s*$")
_ZONE = re.compile(r"zone:?(\d+)")
_MPH = 1.609344


@dataclass(frozen=True, slots=True)
class Directions:
    """Which ways a road may be driven along its node order."""

    forward: bool
    backward: bool


def road_class(tags: Mapping[str, str]) -> RoadClass | None:
    """The class of a drivable road, None when the way is not one (footway, area, ...)."""
    highway = tags.get("highway", "")
    cls = HIGHWAY_CLASS.get(highway)
    if cls is None or tags.get("area") == "yes":
        return None
    if highway == "service" and tags.get("service") in _NO_SERVICE:
        return None
    if not is_open(tags):
        return None
    return cls


def is_open(tags: Mapping[str, str]) -> bool:
    """Whether a bus or shuttle may use the way, by the most specific access tag set."""
    for key in _ACCESS_KEYS:
        value = tags.get(key)
        if value is None:
            continue
        value = value.split(";")[0].strip()
        if value in _OPEN:
            return True
        if value in _CLOSED:
            return False
    return True


def directions(tags: Mapping[str, str]) -> Directions:
    """Driving directions from `oneway`, `junction` and implied one-ways (motorways)."""
    if tags.get("oneway:bus") == "no" or tags.get("oneway:psv") == "no":
        return Directions(True, True)
    oneway = tags.get("oneway", "")
    if oneway in ("-1", "reverse"):
        return Directions(False, True)
    if oneway in ("yes", "true", "1"):
        return Directions(True, False)
    if oneway == "no":
        return Directions(True, True)
    implied = tags.get("highway") in ("motorway", "motorway_link") or tags.get("junction") in (
        "roundabout",
        "circular",
    )
    return Directions(True, not implied)


def parse_maxspeed(value: str | None) -> float | None:
    """km/h from a `maxspeed` value ("50", "30 mph", "DE:zone30", "AT:urban", "walk"),
    None when it gives no number (absent, "none", "signals", "variable", garbage)."""
    if not value:
        return None
    text = value.split(";")[0].strip().lower()
    match = _NUMBER.match(text)
    if match is not None:
        speed = float(match.group(1))
        unit = match.group(2)
        if unit == "mph":
            speed *= _MPH
        elif unit == "knots":
            speed *= 1.852
        return speed if speed > 0 else None
    zone = _ZONE.search(text)
    if zone is not None:
        return float(zone.group(1)) or None
    word = text.split(":")[-1]
    return _WORDS_KMH.get(word)


def speeds_kmh(tags: Mapping[str, str]) -> tuple[float, float]:
    """(forward, backward) speed in km/h: `maxspeed:forward`/`:backward`, then
    `maxspeed`, then the default of the road's `highway` value."""
    default = DEFAULT_SPEED_KMH.get(tags.get("highway", ""), 30.0)
    both = parse_maxspeed(tags.get("maxspeed"))
    base = both if both is not None else default
    forward = parse_maxspeed(tags.get("maxspeed:forward"))
    backward = parse_maxspeed(tags.get("maxspeed:backward"))
    return (forward or base, backward or base)


def road_name(tags: Mapping[str, str]) -> str:
    """The name a person would read: `name`, else `ref`, else ''."""
    return tags.get("name") or tags.get("ref", "").split(";")[0].strip()
