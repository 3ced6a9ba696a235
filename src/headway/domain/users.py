"""People and machines that call the API, and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    PASSENGER = "passenger"
    VEHICLE = "vehicle"


# A role may do what the roles it includes may do.
INCLUDES: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset({Role.ADMIN, Role.OPERATOR, Role.PASSENGER}),
    Role.OPERATOR: frozenset({Role.OPERATOR, Role.PASSENGER}),
    Role.PASSENGER: frozenset({Role.PASSENGER}),
    Role.VEHICLE: frozenset({Role.VEHICLE}),
}


def allows(have: Role, need: Role) -> bool:
    return need in INCLUDES[have]


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: Role
    password_hash: str
