"""INSERT ... ON CONFLICT DO UPDATE for whichever engine a connection is on: both SQLite and
PostgreSQL speak it, only SQLAlchemy's constructors differ. No policy here."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_for(conn: Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert(
    conn: Connection,
    table: Table,
    keys: Sequence[str],
    updates: Sequence[str],
    where: ColumnElement[bool] | None = None,
) -> sqlite.Insert | postgresql.Insert:
    """Insert, or on a conflict over `keys` overwrite `updates` with the new values (only
    where `where`, a condition on the existing row, holds)."""
    stmt = insert_for(conn, table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: stmt.excluded[name] for name in updates},
        where=where,
    )
