"""`smsgate admin backup PATH`: a consistent copy of a SQLite database while nodes keep writing,
made with SQLite's online backup API (a plain `cp` of a WAL-mode database can miss the WAL's
pages or catch a page half-written). The copy is checked with PRAGMA integrity_check.

PostgreSQL is not copied here: pg_dump does that better, and the refusal says how.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer

from smsgate.admin.store_session import (
    EXIT_DATABASE,
    ConfigOption,
    fail,
    settings_from,
    sqlite_file,
)

PAGES_PER_STEP = 1024  # copied between pauses, so a busy writer is held up briefly, not blocked

PG_DUMP_HINT = (
    "the database is not SQLite: back up PostgreSQL with pg_dump, e.g. "
    "`pg_dump --format=custom --file smsgate.dump 'postgresql://USER@HOST/DB'` "
    "(restore with `pg_restore --clean --dbname 'postgresql://USER@HOST/DB' smsgate.dump`)"
)


def backup_sqlite(source: Path, target: Path) -> str:
    """Copy `source` into a new file `target` page by page while others write; returns the
    copy's integrity_check answer ("ok" when sound)."""
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst, pages=PAGES_PER_STEP)
        # The copy is a standalone file: journal in rollback mode so that it needs no -wal.
        dst.execute("PRAGMA journal_mode=DELETE")
        (answer,) = dst.execute("PRAGMA integrity_check").fetchone()
    return str(answer)


def backup(
    path: Annotated[Path, typer.Argument(help="File to write the copy to (must not exist)")],
    config: ConfigOption = None,
) -> None:
    """Copy the SQLite database to PATH while the nodes keep running."""
    settings = settings_from(config)
    source = sqlite_file(settings.database.url)
    if source is None:
        fail(PG_DUMP_HINT)
    if not source.exists():
        fail(f"the database {source} does not exist", EXIT_DATABASE)
    target = path.resolve()
    if target.exists():
        fail(f"{target} exists: choose a new file (a backup never overwrites)")
    if target == source:
        fail("the backup must not be the database itself")
    try:
        answer = backup_sqlite(source, target)
    except (sqlite3.Error, OSError) as exc:
        target.unlink(missing_ok=True)
        fail(f"backup of {source} failed: {exc}", EXIT_DATABASE)
    if answer != "ok":
        fail(f"the copy at {target} failed its integrity check: {answer}", EXIT_DATABASE)
    size = target.stat().st_size
    typer.echo(f"backup of {source} written to {target} ({size} bytes, integrity ok)")
