"""Provisioned vehicles and API users in PostgreSQL, for the processes of the stack.

The bridge asks ``is_known`` for every message, so the registry answers from a copy in
memory that ``refresh`` reloads (the bridge calls it every few seconds); ``register``
writes through to the table and the copy at once.
"""

from __future__ import annotations

import psycopg

from headway.domain.users import Role, User


class PostgresVehicleRegistry:
    def __init__(self, url: str) -> None:
        self._url = url
        self._known: set[tuple[str, str]] = set()

    def refresh(self) -> None:
        with psycopg.connect(self._url, connect_timeout=5) as conn:
            rows = conn.execute("SELECT manufacturer, id FROM vehicles").fetchall()
        self._known = {(m, i) for m, i in rows}

    def is_known(self, manufacturer: str, serial: str) -> bool:
        return (manufacturer, serial) in self._known

    def register(self, manufacturer: str, serial: str) -> None:
        self.register_many([(manufacturer, serial)])

    def register_many(self, vehicles: list[tuple[str, str]]) -> None:
        with psycopg.connect(self._url, connect_timeout=5) as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO vehicles (manufacturer, id) VALUES (%s, %s) "
                "ON CONFLICT (id) DO UPDATE SET manufacturer = excluded.manufacturer",
                vehicles,
            )
        self._known.update(vehicles)

    def all(self) -> list[tuple[str, str]]:
        return sorted(self._known)


class PostgresUserStore:
    def __init__(self, url: str) -> None:
        self._url = url

    def get(self, username: str) -> User | None:
        with psycopg.connect(self._url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT username, role, password_hash FROM users WHERE username = %s",
                (username,),
            ).fetchone()
        return None if row is None else User(row[0], Role(row[1]), row[2])

    def put(self, user: User) -> None:
        with psycopg.connect(self._url, connect_timeout=5) as conn:
            conn.execute(
                "INSERT INTO users (username, role, password_hash) VALUES (%s, %s, %s) "
                "ON CONFLICT (username) DO UPDATE SET role = excluded.role, "
                "password_hash = excluded.password_hash",
                (user.username, user.role.value, user.password_hash),
            )
