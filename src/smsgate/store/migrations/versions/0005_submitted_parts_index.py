"""Parts waiting for their operator's receipt, indexed by connector and submit time.

A part the operator took and never reported stayed ENROUTE forever; the receipt watch asks the
operator about such parts (query_sm) and ends them EXPIRED at their lifetime's end. Both look
for submitted parts only, which this partial index keeps small.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_parts_submitted",
        "parts",
        ["connector", "submitted_at"],
        unique=False,
        sqlite_where=sa.text("state = 2"),
        postgresql_where=sa.text("state = 2"),
    )


def downgrade() -> None:
    op.drop_index("ix_parts_submitted", table_name="parts")
