"""PostgreSQL + PostGIS adapters of the stack profile (history, records)."""
