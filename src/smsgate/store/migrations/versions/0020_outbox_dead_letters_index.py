"""An account's dead letters found without reading the whole outbox (the dashboard's failed
deliveries, `smsgate admin webhooks|callbacks failed LOGIN`): a partial index on outbox
(account_id, id) over dead letters only. Rows are written into it only when given up, and
leave it when redelivered.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 13:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_dead",
            ["account_id", "id"],
            unique=False,
            sqlite_where=sa.text("dead_at IS NOT NULL"),
            postgresql_where=sa.text("dead_at IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_dead")
