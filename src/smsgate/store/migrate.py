"""Bring a database to the newest schema by running the Alembic revisions in migrations/,
programmatically and without alembic.ini. Safe when several nodes start at once: the upgrade
runs under the write lock (SQLite) or an advisory lock (PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from smsgate.store.writer import Writer

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant works; it only has to be the same for every node of one database.
_ADVISORY_LOCK = 0x736D_7367  # "smsg"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
    if current_revision(connection) == head_revision():
        return
    command.upgrade(alembic_config(connection), "head")


async def upgrade(writer: Writer) -> None:
    await writer.run(_upgrade)
