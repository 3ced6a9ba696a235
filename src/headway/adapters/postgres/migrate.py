"""Bring a database's schema up to date with the Alembic migrations shipped here."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import psycopg
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # The option goes through configparser's interpolation: a literal % must be doubled
    # (percent-encoded passwords, ``options=-csearch_path%3D…``).
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def sqlalchemy_url(url: str) -> str:
    """``postgresql://`` URLs as SQLAlchemy wants them for psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


MIGRATION_LOCK = 0x48570001  # pg advisory lock key: one migrating process at a time


def upgrade(url: str) -> None:
    """Migrate to the newest schema; safe when several processes start at once."""
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            command.upgrade(alembic_config(url), "head")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def new_schema(database_url: str, schema: str) -> str:
    """Create ``schema`` in the database and migrate it: the URL of a deployment whose
    tables live there (several side by side in one database: tests, benchmarks).
    PostGIS stays in ``public``, which is searched second."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in database_url else "?"
    url = f"{database_url}{separator}options={quote(f'-csearch_path={schema},public')}"
    upgrade(url)
    return url
