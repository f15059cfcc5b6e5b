"""Each account's messages per UTC hour (traffic_hours, store/traffic_hours.py), so the charts'
traffic reads at most 24 rows a day instead of counting every message; filled here from the
messages already stored.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# As of now: traffic_hours.DELIVERED and FAILED, and hour_of (floor of a float division).
_DELIVERED = "status = 'DELIVRD'"
_FAILED = "status IN ('EXPIRED', 'UNDELIV', 'REJECTD')"


def upgrade() -> None:
    op.create_table(
        "traffic_hours",
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "hour"),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    # SQLite's integer cast truncates (times are after the epoch); PostgreSQL's rounds.
    hour = (
        "CAST(created_at / 3600 AS INTEGER)"
        if bind.dialect.name == "sqlite"
        else "CAST(floor(created_at / 3600) AS INTEGER)"
    )
    bind.exec_driver_sql(
        "INSERT INTO traffic_hours (account_id, hour, sent, delivered, failed)"
        f" SELECT account_id, {hour}, count(*),"
        f" sum(CASE WHEN {_DELIVERED} THEN 1 ELSE 0 END),"
        f" sum(CASE WHEN {_FAILED} THEN 1 ELSE 0 END)"
        f" FROM messages GROUP BY account_id, {hour}"
    )


def downgrade() -> None:
    op.drop_table("traffic_hours")
