"""A partial index of each account's failed messages (EXPIRED, UNDELIV, REJECTD) by status,
newest first: the native API's search by a failed status reads only those rows
(bench/message_search.py), and a delivered message never writes to it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

FAILED = "status IN ('EXPIRED', 'UNDELIV', 'REJECTD')"  # schema.FAILED_MESSAGES, as of now


def upgrade() -> None:
    op.create_index(
        "ix_messages_account_failed",
        "messages",
        ["account_id", "status", "id"],
        sqlite_where=sa.text(FAILED),
        postgresql_where=sa.text(FAILED),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        analyzed = bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
        ).first()
        if analyzed is not None:  # as in 0018: statistics for every index or for none
            bind.exec_driver_sql("ANALYZE ix_messages_account_failed")


def downgrade() -> None:
    op.drop_index("ix_messages_account_failed", table_name="messages")
