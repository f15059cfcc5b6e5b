"""Duplicate detection moves from an index on messages' hash to an append-only log.

The index took each accept at a random leaf page (store/dedupe_log.py says why); the log only
grows at its end. Keys of the last ten minutes are copied over, so a repeat sent just before
the upgrade is still caught just after it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_CARRY_OVER = 600.0


def upgrade() -> None:
    op.create_table(
        "dedupe_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("dedupe_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_dedupe_log")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("dedupe_log", schema=None) as batch_op:
        batch_op.create_index("ix_dedupe_log_account", ["account_id", "seq"], unique=False)
    op.execute(
        sa.text(
            "INSERT INTO dedupe_log (account_id, dedupe_key, created_at)"
            " SELECT account_id, dedupe_key, created_at FROM messages"
            " WHERE created_at >= :cutoff ORDER BY created_at, id"
        ).bindparams(cutoff=time.time() - _CARRY_OVER)
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_dedupe")


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_dedupe", ["account_id", "dedupe_key", "created_at"], unique=False
        )
    with op.batch_alter_table("dedupe_log", schema=None) as batch_op:
        batch_op.drop_index("ix_dedupe_log_account")
    op.drop_table("dedupe_log")
