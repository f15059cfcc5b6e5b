"""Plain driver statements: one SQL text per engine, list parameters of any length, and the
same IntegrityError as SQLAlchemy's own statements raise."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from smsgate.store.plain_sql import PlainSql
from smsgate.store.sql_store import SqlStore

_leases = PlainSql("SELECT key FROM leases WHERE key = ANY(?) AND expires_at > ? ORDER BY key")
_insert = PlainSql("INSERT INTO leases (key, holder, expires_at) VALUES (?, ?, ?)")


async def _write(store: SqlStore, work: Any) -> Any:
    return await asyncio.wait_for(store.engines.writer.run(work), 10)


def test_postgresql_text_numbers_placeholders_and_passes_lists_whole() -> None:
    assert _leases.postgresql == (
        "SELECT key FROM leases WHERE key = ANY($1) AND expires_at > $2 ORDER BY key"
    )


def test_lock_clause_is_for_postgresql_only() -> None:
    locked = PlainSql("SELECT id FROM accounts WHERE id = ANY(?)", lock="FOR UPDATE")
    assert locked.postgresql.endswith("= ANY($1) FOR UPDATE")
    text, _ = locked._sqlite_call(([1],))
    assert "FOR UPDATE" not in text


def test_sqlite_lists_are_padded_to_powers_of_two_so_few_texts_are_prepared() -> None:
    sizes = set()
    for n in range(1, 17):
        text, flat = _leases._sqlite_call((list(range(n)), 0.0))
        sizes.add(text)
        assert len(flat) == text.count("?")
        assert flat[-1] == 0.0
    assert len(sizes) == 5  # 1, 2, 4, 8, 16


def test_an_empty_list_is_refused() -> None:
    with pytest.raises(ValueError):
        _leases._sqlite_call(([], 0.0))


@pytest.mark.parametrize("count", [1, 3, 5, 8])
async def test_a_list_parameter_matches_exactly_its_values(store: SqlStore, count: int) -> None:
    keys = [f"k{i}" for i in range(10)]

    def work(conn: Connection) -> list[Any]:
        _insert.many(conn, [(k, "me", 100.0) for k in keys])
        return _leases.rows(conn, [*keys[:count], "absent"], 50.0)

    rows = await _write(store, work)
    assert [row[0] for row in rows] == sorted(keys[:count])


async def test_run_returns_the_rows_it_touched(store: SqlStore) -> None:
    bump = PlainSql("UPDATE leases SET expires_at = ? WHERE key = ANY(?)")

    def work(conn: Connection) -> int:
        _insert.many(conn, [("a", "me", 1.0), ("b", "me", 1.0)])
        return bump.run(conn, 2.0, ["a", "b", "c"])

    assert await _write(store, work) == 2


async def test_a_broken_constraint_is_sqlalchemys_integrity_error(store: SqlStore) -> None:
    def work(conn: Connection) -> None:
        _insert.many(conn, [("same", "me", 1.0), ("same", "you", 1.0)])

    with pytest.raises(IntegrityError):
        await _write(store, work)
