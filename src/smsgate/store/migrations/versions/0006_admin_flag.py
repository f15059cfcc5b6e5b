"""Accounts gain an admin flag: only accounts marked admin see the dashboard's operator pages.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


# A plain ADD COLUMN on both engines: a batch (copy and swap) of `accounts` on SQLite would drop
# a table other tables' foreign keys point at.
def upgrade() -> None:
    op.add_column(
        "accounts", sa.Column("admin", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("accounts", "admin")
