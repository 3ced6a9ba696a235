"""Initial schema: vehicles, telemetry history (partitioned by day), alerts, the road
network, stops, routes, commands and rides.

Revision ID: 0001
"""

from alembic import op

revision = "0001"
down_revision = None

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE vehicles (
    id            text PRIMARY KEY,
    manufacturer  text NOT NULL,
    type          text NOT NULL DEFAULT 'shuttle',
    capacity      integer NOT NULL DEFAULT 8 CHECK (capacity >= 0),
    registered_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (manufacturer, id)
);

-- Every telemetry event the processor applied, once: (vehicle_id, ts) is the key, so a
-- batch replayed after a crash adds nothing. One partition per UTC day.
CREATE TABLE telemetry (
    vehicle_id  text NOT NULL,
    ts          timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    geom        geometry(Point, 4326) NOT NULL,
    x           double precision NOT NULL,
    y           double precision NOT NULL,
    heading     real NOT NULL,
    speed       real NOT NULL,
    battery     real NOT NULL,
    status      text NOT NULL,
    occupancy   smallint NOT NULL,
    segment     integer,
    PRIMARY KEY (vehicle_id, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX telemetry_geom ON telemetry USING gist (geom);
CREATE INDEX telemetry_ts ON telemetry (ts);

CREATE TABLE alerts (
    id         text PRIMARY KEY,
    vehicle_id text NOT NULL,
    kind       text NOT NULL,
    severity   text NOT NULL,
    message    text NOT NULL,
    raised_at  timestamptz NOT NULL,
    cleared_at timestamptz
);
CREATE INDEX alerts_vehicle ON alerts (vehicle_id, raised_at DESC);
CREATE INDEX alerts_open ON alerts (raised_at DESC) WHERE cleared_at IS NULL;

CREATE TABLE network_edges (
    map_id    text NOT NULL,
    id        integer NOT NULL,
    src       integer NOT NULL,
    dst       integer NOT NULL,
    class     text NOT NULL,
    name      text NOT NULL,
    speed_mps real NOT NULL,
    length_m  real NOT NULL,
    geom      geometry(LineString, 4326) NOT NULL,
    PRIMARY KEY (map_id, id)
);
CREATE INDEX network_edges_geom ON network_edges USING gist (geom);

CREATE TABLE stops (
    map_id text NOT NULL,
    id     text NOT NULL,
    name   text NOT NULL,
    node   integer NOT NULL,
    geom   geometry(Point, 4326) NOT NULL,
    PRIMARY KEY (map_id, id)
);
CREATE INDEX stops_geom ON stops USING gist (geom);

CREATE TABLE routes (
    id         text PRIMARY KEY,
    short_name text NOT NULL,
    long_name  text NOT NULL DEFAULT '',
    stop_ids   text[] NOT NULL DEFAULT '{}',
    path       geometry(LineString, 4326),
    traffic    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX routes_path ON routes USING gist (path);

CREATE TABLE commands (
    id              text PRIMARY KEY,
    vehicle_id      text NOT NULL,
    kind            text NOT NULL,
    state           text NOT NULL,
    body            jsonb NOT NULL,
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    UNIQUE (vehicle_id, idempotency_key)
);
CREATE INDEX commands_vehicle ON commands (vehicle_id, created_at);
CREATE INDEX commands_open ON commands (state)
    WHERE state NOT IN ('done', 'failed', 'expired', 'cancelled', 'rejected');

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


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS rides, commands, routes, stops, network_edges, alerts, "
        "telemetry, vehicles CASCADE"
    )
