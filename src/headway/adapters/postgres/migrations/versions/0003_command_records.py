"""Command records as the commander keeps them: a per-vehicle sequence, a version for
compare-and-set, idempotency keys unique across the deployment (a key names the caller,
not the vehicle), and indexes for a vehicle's open commands and for the sweeper.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE commands
            ADD COLUMN seq     bigint  NOT NULL DEFAULT 0,
            ADD COLUMN version integer NOT NULL DEFAULT 1,
            DROP CONSTRAINT commands_vehicle_id_idempotency_key_key;
        CREATE UNIQUE INDEX commands_idempotency_key ON commands (idempotency_key)
            WHERE idempotency_key IS NOT NULL;
        CREATE INDEX commands_vehicle_id ON commands (vehicle_id, id);
        CREATE INDEX commands_open_by_vehicle ON commands (vehicle_id, seq)
            WHERE state NOT IN ('done', 'failed', 'expired', 'cancelled', 'rejected');
        CREATE INDEX commands_open_by_update ON commands (updated_at)
            WHERE state NOT IN ('done', 'failed', 'expired', 'cancelled', 'rejected');
        DROP INDEX IF EXISTS commands_open;

        -- The last seq handed out per vehicle; its row lock orders a vehicle's creates.
        CREATE TABLE command_sequences (
            vehicle_id text PRIMARY KEY,
            last_seq   bigint NOT NULL
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE IF EXISTS command_sequences;
        DROP INDEX IF EXISTS commands_open_by_update;
        DROP INDEX IF EXISTS commands_open_by_vehicle;
        DROP INDEX IF EXISTS commands_vehicle_id;
        DROP INDEX IF EXISTS commands_idempotency_key;
        CREATE INDEX commands_open ON commands (state)
            WHERE state NOT IN ('done', 'failed', 'expired', 'cancelled', 'rejected');
        ALTER TABLE commands
            DROP COLUMN version,
            DROP COLUMN seq,
            ADD CONSTRAINT commands_vehicle_id_idempotency_key_key
                UNIQUE (vehicle_id, idempotency_key);
        """
    )
