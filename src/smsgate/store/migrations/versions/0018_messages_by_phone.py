"""An index of each account's messages by recipient, newest first: the native API's search by
phone reads only that recipient's rows (bench/message_search.py).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 13:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_account_phone", "messages", ["account_id", "phone", "id"])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        analyzed = bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
        ).first()
        if analyzed is not None:
            # A database someone ran ANALYZE on has statistics for the other index only, and
            # SQLite then reads every row of the account through this one and sorts them.
            bind.exec_driver_sql("ANALYZE ix_messages_account_phone")


def downgrade() -> None:
    op.drop_index("ix_messages_account_phone", table_name="messages")
