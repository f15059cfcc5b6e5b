"""PostgreSQL's backup the way `smsgate admin backup` and the README name it: `pg_dump
--format=custom` while the database is in use, `pg_restore --clean` into it once the nodes are
stopped, and the admin CLI finds exactly what was dumped (the money, and the id sequences that
go on after it). Beside the store's tests for their throwaway cluster."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from admin.admin_cli import Admin
from typer.testing import CliRunner

from smsgate.admin.backup import PG_DUMP_HINT

from .conftest import _pg_binary


def run(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (args[0], done.stdout, done.stderr)


def balances(admin: Admin) -> list[tuple[str, str]]:
    rows = json.loads(admin.ok("accounts", "list", "--json").stdout)
    return [(r["login"], r["balance"]) for r in rows]


def test_pg_dump_then_pg_restore_gives_back_the_accounts_and_their_money(
    pg_database: str, tmp_path: Path
) -> None:
    assert "pg_dump --format=custom --file smsgate.dump" in PG_DUMP_HINT
    assert "pg_restore --clean --dbname" in PG_DUMP_HINT
    admin = Admin(pg_database, CliRunner())
    admin.ok("accounts", "create", "alice")
    admin.ok("balance", "top-up", "alice", "12.50")
    # libpq's URL: the same as the node's without SQLAlchemy's +asyncpg driver name.
    url = pg_database.replace("postgresql+asyncpg://", "postgresql://")
    dump = tmp_path / "smsgate.dump"
    run(_pg_binary("pg_dump"), "--format=custom", "--file", str(dump), url)

    admin.ok("accounts", "create", "bob")  # after the dump: gone once it is restored
    admin.ok("balance", "top-up", "alice", "1")
    run(_pg_binary("pg_restore"), "--clean", "--dbname", url, str(dump))

    assert balances(admin) == [("alice", "12.5000")]
    admin.ok("accounts", "create", "carol")  # the ids go on from the dump's sequences
    assert [login for login, _ in balances(admin)] == ["alice", "carol"]
