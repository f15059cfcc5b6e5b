"""Every plain-SQL statement of the store names only tables and columns that schema.py has: a
renamed or dropped column fails here, not on the first message in production."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smsgate.store import statements
from smsgate.store.plain_sql import PlainSql
from smsgate.store.prepared import BulkInsert
from smsgate.store.schema import metadata

_KEYWORDS = {
    "all", "and", "any", "as", "by", "conflict", "delete", "distinct", "do", "excluded", "for",
    "from", "group", "in", "insert", "into", "is", "join", "left", "limit", "locked", "not", "null",
    "of", "on", "or", "order", "returning", "select", "set", "skip", "union", "update", "values",
    "where",
}  # fmt: skip
_TABLE_AFTER = {"from", "join", "into", "update"}
_TOKEN = re.compile(r"'[^']*'|\$\d+|[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)?|\S")


def _named(kind: type) -> list[tuple[str, object]]:
    return sorted((n, v) for n, v in vars(statements).items() if isinstance(v, kind))


def check(sql: str) -> set[str]:
    """The tables `sql` reads or writes; raises AssertionError on a name schema.py lacks."""
    tokens = _TOKEN.findall(sql)
    words = [t.lower() for t in tokens]
    tables: dict[str, str] = {}  # name or alias -> table
    for i, word in enumerate(words[:-1]):
        if word in _TABLE_AFTER and words[i + 1] not in _KEYWORDS:
            table = words[i + 1]
            assert table in metadata.tables, f"no table {table!r}"
            tables[table] = table
            alias = words[i + 2] if i + 2 < len(words) else ""
            if re.fullmatch(r"[a-z_]\w*", alias) and alias not in _KEYWORDS:
                tables[alias] = table
    written = {t for t in tables.values()}
    for i, word in enumerate(words):
        if not re.fullmatch(r"[a-z_][\w.]*", word) or word in _KEYWORDS or word in tables:
            continue
        if i + 1 < len(words) and words[i + 1] == "(":
            continue  # a function: count, min, coalesce, ...
        if "." in word:
            owner, column = word.split(".")
            table = next(iter(written)) if owner == "excluded" else tables.get(owner)
            assert table is not None, f"{owner!r} names no table of the statement"
            assert column in metadata.tables[table].c, f"no column {table}.{column}"
        else:
            assert any(word in metadata.tables[t].c for t in written), (
                f"no column {word!r} in {sorted(written)}"
            )
    return written


@pytest.mark.parametrize(("name", "statement"), _named(PlainSql), ids=lambda v: str(v)[:30])
def test_each_plain_statement_names_only_schema_tables_and_columns(
    name: str, statement: PlainSql
) -> None:
    tables = check(statement.postgresql)
    assert tables or name == "lock_receipt_matching", f"{name} names no table"


@pytest.mark.parametrize(("name", "insert"), _named(BulkInsert), ids=lambda v: str(v)[:30])
def test_each_bulk_insert_names_only_schema_columns(name: str, insert: BulkInsert) -> None:
    assert check(insert._insert.postgresql) == {insert.table.name}


def test_every_statement_of_the_store_lives_in_statements_py() -> None:
    """No PlainSql or BulkInsert is built anywhere else in the store's package."""
    package = Path(statements.__file__).parent
    for path in package.glob("*.py"):
        if path.name in {"statements.py", "plain_sql.py", "prepared.py"}:
            continue
        source = path.read_text(encoding="utf-8")
        assert "PlainSql(" not in source and "BulkInsert(" not in source, path.name


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id, balanse FROM accounts WHERE id = ?",
        "SELECT p.id, m.phone FROM parts p JOIN messages m ON m.id = p.message_id"
        " WHERE p.phone = ?",
        "UPDATE parts SET stat = ? WHERE id = ?",
        "INSERT INTO outboxes (account_id) VALUES (?)",
        "INSERT INTO rate_buckets (account_id, tokens) VALUES (?, ?)"
        " ON CONFLICT (account_id) DO UPDATE SET tokens = excluded.token",
    ],
)
def test_a_misspelt_table_or_column_is_caught(sql: str) -> None:
    with pytest.raises(AssertionError):
        check(PlainSql(sql).postgresql)
