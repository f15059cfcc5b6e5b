"""Inbound SMS: numbers owned by accounts (with keywords on shared short codes), every inbound
message (routed or kept unroutable), and the accounts' suppression lists (opt-outs).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 04:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inbound_numbers",
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("keyword", sa.String(length=32), server_default=sa.text("''"), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_inbound_numbers_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("number", "keyword", name=op.f("pk_inbound_numbers")),
    )
    with op.batch_alter_table("inbound_numbers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_numbers_account_id"), ["account_id"], unique=False
        )
    op.create_table(
        "inbound_messages",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data_coding", sa.SmallInteger(), nullable=False),
        sa.Column("parts", sa.SmallInteger(), nullable=False),
        sa.Column("total", sa.SmallInteger(), nullable=False),
        sa.Column("keyword", sa.String(length=32), server_default=sa.text("''"), nullable=False),
        sa.Column("reason", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_inbound_messages_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_messages_account", ["account_id", "id"], unique=False)
    op.create_table(
        "suppressions",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_suppressions_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "phone", name=op.f("pk_suppressions")),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_messages_account")
    op.drop_table("inbound_messages")
    with op.batch_alter_table("inbound_numbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_numbers_account_id"))
    op.drop_table("inbound_numbers")
