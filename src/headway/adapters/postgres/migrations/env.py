"""Alembic environment: migrations run online against the URL handed in by ``migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

url = context.config.get_main_option("sqlalchemy.url") or ""
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    # The version table lives in the schema the tables go to (the first of the search
    # path), so a database URL that names its own schema gets a schema of its own.
    schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
    connection.commit()  # end the query's transaction: the migrations run in their own
    context.configure(connection=connection, target_metadata=None, version_table_schema=str(schema))
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
