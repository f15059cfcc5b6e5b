"""Persistence: schema, migrations and the queries the services need, on SQLite or PostgreSQL."""
