"""A message's callback keeps Kannel's dlr-mask: which final statuses are pushed (1 delivered,
2 failed, 16 rejected). Rows before it wanted every final status (19), or every status (31).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "message_callbacks",
        sa.Column("dlr_mask", sa.SmallInteger(), server_default=sa.text("19"), nullable=False),
    )
    op.execute("UPDATE message_callbacks SET dlr_mask = 31 WHERE every_status")


def downgrade() -> None:
    with op.batch_alter_table("message_callbacks", schema=None) as batch_op:
        batch_op.drop_column("dlr_mask")
