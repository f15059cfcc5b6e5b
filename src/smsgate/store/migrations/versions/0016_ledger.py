"""The money ledger: refunds, top-ups, corrections and carried-forward charges (a message row
is its own charge). Existing money is carried in: a refund entry per message already refunded,
a `carried` entry for the charges of messages deleted before the ledger, and an `opening`
entry that makes each account's ledger sum to its balance.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ledger_entries_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entries_account", ["account_id", "at", "id"])
    # Parts refunded so far (billing 2), one entry per message, at its last part's end.
    op.execute(
        "INSERT INTO ledger_entries (account_id, kind, amount, at, message_id)"
        " SELECT m.account_id, 'refund', sum(m.price_per_part), max(COALESCE(p.done_at,"
        " m.created_at)), m.id FROM parts p JOIN messages m ON m.id = p.message_id"
        " WHERE p.billing = 2 AND m.price_per_part > 0 GROUP BY m.account_id, m.id"
    )
    # Money held or spent on messages no longer stored (retention deleted them): carried.
    op.execute(
        "INSERT INTO ledger_entries (account_id, kind, amount, at, message_id)"
        " SELECT a.id, 'carried', -(a.reserved + a.charged - COALESCE(c.cost, 0)"
        " + COALESCE(r.refunded, 0)), a.created_at, NULL FROM accounts a"
        " LEFT JOIN (SELECT account_id, sum(parts * price_per_part) AS cost FROM messages"
        " GROUP BY account_id) c ON c.account_id = a.id"
        " LEFT JOIN (SELECT account_id, sum(amount) AS refunded FROM ledger_entries"
        " GROUP BY account_id) r ON r.account_id = a.id"
        " WHERE a.reserved + a.charged - COALESCE(c.cost, 0) + COALESCE(r.refunded, 0) <> 0"
    )
    # Whatever made the balance what it is (its top-ups): the balance plus what was held or
    # spent on messages.
    op.execute(
        "INSERT INTO ledger_entries (account_id, kind, amount, at, message_id)"
        " SELECT id, 'opening', balance + reserved + charged, created_at, NULL FROM accounts"
        " WHERE balance + reserved + charged <> 0"
    )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_account")
    op.drop_table("ledger_entries")
