"""Parts of concatenated inbound SMS kept while they wait for their siblings, per node, so a
node killed between two parts completes the message when it restarts.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_parts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_ton", sa.SmallInteger(), nullable=False),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.Column("total", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("sixteen_bit", sa.Boolean(), nullable=False),
        sa.Column("data_coding", sa.SmallInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_parts")),
    )
    with op.batch_alter_table("inbound_parts", schema=None) as batch_op:
        batch_op.create_index(
            "ux_inbound_parts_part",
            ["node_id", "source", "destination", "ref", "total", "sixteen_bit", "seq"],
            unique=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound_parts", schema=None) as batch_op:
        batch_op.drop_index("ux_inbound_parts_part")
    op.drop_table("inbound_parts")
