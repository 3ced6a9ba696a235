"""Ride records as the ride service keeps them: the whole record as a ``jsonb`` document,
a version for compare-and-set, and beside it the columns that queries filter, sort and
map on (passenger, state, vehicle, times, pickup and drop-off points). The table of
0001 held no data yet (no adapter wrote it), so it is replaced, not altered.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"

_OPEN = "state NOT IN ('refused', 'declined', 'expired', 'completed', 'cancelled')"


def upgrade() -> None:
    op.execute(
        f"""
        DROP TABLE rides;
        CREATE TABLE rides (
            id          text PRIMARY KEY,
            passenger   text NOT NULL,
            state       text NOT NULL,
            seats       smallint NOT NULL CHECK (seats > 0),
            vehicle_id  text,
            origin      geometry(Point, 4326) NOT NULL,
            destination geometry(Point, 4326) NOT NULL,
            created_at  timestamptz NOT NULL,
            updated_at  timestamptz NOT NULL,
            version     integer NOT NULL DEFAULT 1,
            body        jsonb NOT NULL
        );
        CREATE INDEX rides_by_passenger ON rides (passenger, id);
        CREATE INDEX rides_open ON rides (created_at, id) WHERE {_OPEN};
        CREATE INDEX rides_origin ON rides USING gist (origin);
        CREATE INDEX rides_destination ON rides USING gist (destination);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE rides;
        CREATE TABLE rides (
            id            text PRIMARY KEY,
            passenger     text NOT NULL,
            state         text NOT NULL,
            seats         smallint NOT NULL CHECK (seats > 0),
            origin        geometry(Point, 4326) NOT NULL,
            destination   geometry(Point, 4326) NOT NULL,
            vehicle_id    text,
            requested_at  timestamptz NOT NULL DEFAULT now(),
            pickup_window tstzrange,
            dropoff_eta   timestamptz
        );
        CREATE INDEX rides_origin ON rides USING gist (origin);
        """
    )
