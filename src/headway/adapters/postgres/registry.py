"""Provisioned vehicles and API users in PostgreSQL, for the processes of the stack.

The bridge asks ``is_known`` for every message, so the registry answers from a copy in
memory that ``refresh`` brings up to date (the bridge calls it every few seconds);
``register`` writes through to the table and the copy at once.

A refresh reads only the vehicles registered since the last one: reading them all each
time cost the bridge a fifth of its time with 200,000 registered, and built a set that
large every few seconds for the garbage collector to walk. The newest registration
time seen is the mark; a minute before it is read again, because ``now()`` is when a
transaction began and it may commit after a later one was read. Every five minutes the
whole table is read, which also drops a vehicle re-registered under another
manufacturer from its old name.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import psycopg

from headway.domain.users import Role, User

FULL_REFRESH_S = 300.0
OVERLAP = timedelta(seconds=60)


class PostgresVehicleRegistry:
    def __init__(self, url: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._url = url
        self._clock = clock
        self._known: set[tuple[str, str]] = set()
        self._mark: datetime | None = None  # newest registration read so far
        self._full_at = -FULL_REFRESH_S

    def refresh(self) -> None:
        now = self._clock()
        full = self._mark is None or now - self._full_at >= FULL_REFRESH_S
        with psycopg.connect(self._url, connect_timeout=5) as conn:
            if full:
                rows = conn.execute("SELECT manufacturer, id, registered_at FROM vehicles")
            else:
                assert self._mark is not None
                rows = conn.execute(
                    "SELECT manufacturer, id, registered_at FROM vehicles WHERE registered_at > %s",
                    (self._mark - OVERLAP,),
                )
            found = rows.fetchall()
        pairs = {(m, i) for m, i, _ in found}
        if full:
            self._known, self._full_at = pairs, now
        else:
            self._known |= pairs
        if found:
            newest = max(r[2] for r in found)
            self._mark = newest if self._mark is None else max(self._mark, newest)
        elif full:
            self._mark = datetime.fromtimestamp(0).astimezone()

    def is_known(self, manufacturer: str, serial: str) -> bool:
        return (manufacturer, serial) in self._known

    def register(self, manufacturer: str, serial: str) -> None:
        self.register_many([(manufacturer, serial)])

    def register_many(self, vehicles: list[tuple[str, str]]) -> None:
        with psycopg.connect(self._url, connect_timeout=5) as conn, conn.cursor() as cur:
            cur.executemany(
                # A new manufacturer counts as a new registration, so other processes'
                # refreshes see it (registered_at is their mark).
                "INSERT INTO vehicles (manufacturer, id) VALUES (%s, %s) "
                "ON CONFLICT (id) DO UPDATE SET manufacturer = excluded.manufacturer, "
                "registered_at = CASE WHEN vehicles.manufacturer = excluded.manufacturer "
                "THEN vehicles.registered_at ELSE now() END",
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
