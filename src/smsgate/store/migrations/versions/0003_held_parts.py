"""Parts of long SMPP messages are kept in the database while the rest arrive.

They used to wait in the door's memory with their submit_sm_resp withheld, so a customer whose
window was smaller than the part count (one submit at a time, as many clients do) waited for
an answer that needed the next part, and every such message failed after the assembly timeout.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_parts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.Column("total", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("data_coding", sa.SmallInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("wants_receipt", sa.Boolean(), nullable=False),
        sa.Column("lifetime", sa.Double(), nullable=True),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.Column("claimed_until", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_held_parts_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_parts")),
    )
    with op.batch_alter_table("held_parts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_held_parts_message",
            ["account_id", "source", "destination", "ref", "total", "seq"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("held_parts", schema=None) as batch_op:
        batch_op.drop_index("ix_held_parts_message")
    op.drop_table("held_parts")
