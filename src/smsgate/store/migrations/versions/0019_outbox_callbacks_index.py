"""A message's callbacks found by its id (the dashboard's message page shows them with their
attempts): a partial index on outbox.message_id over callback rows only, so the busy kinds
(receipts, webhooks) write nothing more.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_callbacks_message",
            ["message_id"],
            unique=False,
            sqlite_where=sa.text("kind = 'callbacks'"),
            postgresql_where=sa.text("kind = 'callbacks'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_callbacks_message")
