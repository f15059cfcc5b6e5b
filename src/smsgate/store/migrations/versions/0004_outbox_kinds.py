"""Outbox rows gain a kind, a payload and a due time, so transports other than SMPP receipts
(per-message callbacks, webhooks, inbound SMS) queue their items in the same table.

Each pump reads only its transport's kind (the pending index leads with it); a row about no
message (an inbound SMS) has no message_id, pdu_id or status; a retry waits until due_at.
Existing rows are receipts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")
        batch_op.add_column(
            sa.Column(
                "kind", sa.String(length=16), server_default=sa.text("'receipts'"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("due_at", sa.Double(), nullable=True))
        batch_op.alter_column("message_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.alter_column("pdu_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.alter_column("status", existing_type=sa.String(length=7), nullable=True)
        batch_op.alter_column(
            "error", existing_type=sa.Integer(), server_default=sa.text("0"), nullable=False
        )
        batch_op.create_index(
            "ix_outbox_pending",
            ["kind", "account_id", "id"],
            unique=False,
            sqlite_where=sa.text("delivered_at IS NULL"),
            postgresql_where=sa.text("delivered_at IS NULL"),
        )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM outbox WHERE kind <> 'receipts'"))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")
        batch_op.alter_column("error", existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column("status", existing_type=sa.String(length=7), nullable=False)
        batch_op.alter_column("pdu_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("message_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column("due_at")
        batch_op.drop_column("payload")
        batch_op.drop_column("kind")
        batch_op.create_index(
            "ix_outbox_pending",
            ["account_id", "id"],
            unique=False,
            sqlite_where=sa.text("delivered_at IS NULL"),
            postgresql_where=sa.text("delivered_at IS NULL"),
        )
