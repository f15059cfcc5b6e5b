"""Alembic migrations of the store; the same numbered files serve SQLite and PostgreSQL."""
