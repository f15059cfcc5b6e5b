"""The event log: every change of a message (accepted, submitted, refused, receipt, expired,
cancelled, refunded; inbound SMS next) written in the transaction of the change and numbered
per account from a counter on the account's row.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 04:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch copy: SQLite cannot drop and recreate accounts while
    # other tables' foreign keys point at it.
    op.add_column(
        "accounts",
        sa.Column("event_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("part_id", sa.BigInteger(), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_events_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "seq", name=op.f("pk_events")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("events")
    op.drop_column("accounts", "event_seq")
