"""`smsgate admin backup PATH`: a consistent copy of the SQLite database taken while another
connection writes, restored by putting it in the database's place."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from .admin_cli import Admin


def _db(admin: Admin) -> Path:
    return Path(admin.url.split(":///", 1)[1])


def test_a_backup_restores_the_accounts_and_balances(admin: Admin, tmp_path: Path) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("balance", "top-up", "alice", "12.50")
    copy = tmp_path / "backup" / "smsgate-copy.db"
    copy.parent.mkdir()
    # A writer holds an open write transaction while the copy is taken: the copy has what was
    # committed and does not wait for it.
    writer = sqlite3.connect(_db(admin), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("CREATE TABLE uncommitted (x)")
        done = admin.ok("backup", str(copy))
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert "integrity ok" in done.stdout and str(copy) in done.stdout
    assert not Path(f"{copy}-wal").exists()  # a standalone file

    # Restore: the nodes are stopped, the copy takes the database's place (its WAL goes too).
    admin.ok("accounts", "create", "bob")  # made after the backup: gone after the restore
    db = _db(admin)
    for leftover in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(copy, db)
    rows = json.loads(admin.ok("accounts", "list", "--json").stdout)
    assert [(r["login"], r["balance"]) for r in rows] == [("alice", "12.5000")]


def test_a_backup_never_overwrites(admin: Admin, tmp_path: Path) -> None:
    admin.ok("accounts", "list")
    existing = tmp_path / "there.db"
    existing.write_bytes(b"keep me")
    message = admin.refused("backup", str(existing))
    assert "exists" in message
    assert existing.read_bytes() == b"keep me"


def test_postgresql_is_told_to_use_pg_dump(admin: Admin, tmp_path: Path) -> None:
    url = "postgresql+asyncpg://smsgate:s3cret@db.example/smsgate"
    result = admin("backup", str(tmp_path / "x"), env={"SMSGATE_DATABASE__URL": url})
    assert result.exit_code == 1
    assert "pg_dump --format=custom" in result.stderr and "pg_restore" in result.stderr
    assert "s3cret" not in result.stderr
