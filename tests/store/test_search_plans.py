"""The message search reads the index each filter was made for, on a migrated SQLite database
(what keeps a search of millions of rows short: bench/message_search.py). A plan is asked of
SQLite with the query's own bound parameters, as the store runs it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.dialects import sqlite

from smsgate.domain.status import Status
from smsgate.store.message_search import search_query
from smsgate.store.records import MessageFilter
from smsgate.store.sql_store import SqlStore

NOW = 1_800_000_000.0


@pytest.fixture
async def database(tmp_path: Path) -> Path:
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path}/plans.db")
    await store.open()
    await store.close()
    return tmp_path / "plans.db"


def plan(database: Path, where: MessageFilter) -> list[str]:
    compiled = search_query(7, where, 51).compile(dialect=sqlite.dialect())
    values = compiled.construct_params()
    params = [values[name] for name in compiled.positiontup or ()]
    with sqlite3.connect(database) as conn:
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {compiled}", params)]


@pytest.mark.parametrize(
    ("where", "index"),
    [
        (MessageFilter(), "ix_messages_account_id (account_id=?)"),
        (MessageFilter(before_id=10**15), "ix_messages_account_id (account_id=? AND id<?)"),
        (
            MessageFilter(number="380501234567"),
            "ix_messages_account_phone (account_id=? AND phone=?)",
        ),
        (
            MessageFilter(status=Status.UNDELIV),
            "ix_messages_account_failed (account_id=? AND status=?)",
        ),
        (
            MessageFilter(status=Status.REJECTD),
            "ix_messages_account_failed (account_id=? AND status=?)",
        ),
        (
            MessageFilter(status=Status.EXPIRED),
            "ix_messages_account_failed (account_id=? AND status=?)",
        ),
        (
            MessageFilter(since=NOW, until=NOW + 3600),
            "ix_messages_account_id (account_id=? AND id>? AND id<?)",
        ),
    ],
)
def test_each_filter_reads_its_index(database: Path, where: MessageFilter, index: str) -> None:
    steps = plan(database, where)
    assert any(step.endswith(f"USING INDEX {index}") for step in steps), steps
    assert not any(step.startswith("SCAN messages") for step in steps), steps
