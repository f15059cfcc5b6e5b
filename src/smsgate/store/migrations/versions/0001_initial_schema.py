"""Initial schema: accounts, senders, tariffs, messages and parts, receipts, outbox, leases.

Revision ID: 0001
Revises: -
Create Date: 2026-12-01 22:26:46.232630
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("api_token_hash", sa.String(length=128), nullable=True),
        sa.Column("password_hash", sa.String(length=256), nullable=True),
        sa.Column("smpp_password_hash", sa.String(length=256), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("reserved", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("charged", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("rate_limit", sa.Double(), nullable=False),
        sa.Column("max_binds", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("api_token_hash", name=op.f("uq_accounts_api_token_hash")),
        sa.UniqueConstraint("login", name=op.f("uq_accounts_login")),
    )
    op.create_table(
        "leases",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_leases")),
    )
    op.create_table(
        "unmatched_receipts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.String(length=80), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("error", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched_receipts")),
    )
    with op.batch_alter_table("unmatched_receipts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_unmatched_receipts_operator", ["connector", "operator_id"], unique=False
        )

    op.create_table(
        "messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("sender", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data_coding", sa.SmallInteger(), nullable=False),
        sa.Column("parts", sa.SmallInteger(), nullable=False),
        sa.Column("price_per_part", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=7), nullable=False),
        sa.Column("door", sa.String(length=8), nullable=False),
        sa.Column("integration_id", sa.String(length=64), nullable=True),
        sa.Column("dedupe_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("done_at", sa.Double(), nullable=True),
        sa.Column("error", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_messages_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_dedupe", ["account_id", "dedupe_key", "created_at"], unique=False
        )

    op.create_table(
        "originators",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_originators_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "name", name=op.f("pk_originators")),
    )
    op.create_table(
        "rate_buckets",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("tokens", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_rate_buckets_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_rate_buckets")),
    )
    op.create_table(
        "tariffs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_tariffs_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariffs")),
        sa.UniqueConstraint("account_id", "prefix", name=op.f("uq_tariffs_account_id_prefix")),
    )
    with op.batch_alter_table("tariffs", schema=None) as batch_op:
        batch_op.create_index(
            "uq_tariffs_default_prefix",
            ["prefix"],
            unique=True,
            sqlite_where=sa.text("account_id IS NULL"),
            postgresql_where=sa.text("account_id IS NULL"),
        )

    op.create_table(
        "message_aliases",
        sa.Column(
            "alias_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_aliases_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("alias_id", name=op.f("pk_message_aliases")),
    )
    with op.batch_alter_table("message_aliases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_aliases_message_id"), ["message_id"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("pdu_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=7), nullable=False),
        sa.Column("error", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("delivered_at", sa.Double(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_outbox_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_outbox_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_pending",
            ["account_id", "id"],
            unique=False,
            sqlite_where=sa.text("delivered_at IS NULL"),
            postgresql_where=sa.text("delivered_at IS NULL"),
        )

    op.create_table(
        "parts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("total", sa.SmallInteger(), nullable=False),
        sa.Column("concat_ref", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("billing", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("due_at", sa.Double(), nullable=False),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("claim_until", sa.Double(), nullable=True),
        sa.Column("connector", sa.String(length=64), nullable=True),
        sa.Column("operator_id", sa.String(length=80), nullable=True),
        sa.Column("submitted_at", sa.Double(), nullable=True),
        sa.Column("done_at", sa.Double(), nullable=True),
        sa.Column("error", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_parts_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parts")),
    )
    with op.batch_alter_table("parts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_parts_claims",
            ["claim_until"],
            unique=False,
            sqlite_where=sa.text("state = 1"),
            postgresql_where=sa.text("state = 1"),
        )
        batch_op.create_index(
            "ix_parts_due",
            ["due_at", "id"],
            unique=False,
            sqlite_where=sa.text("state = 0"),
            postgresql_where=sa.text("state = 0"),
        )
        batch_op.create_index(batch_op.f("ix_parts_message_id"), ["message_id"], unique=False)
        batch_op.create_index(
            "ix_parts_operator",
            ["connector", "operator_id"],
            unique=False,
            sqlite_where=sa.text("operator_id IS NOT NULL"),
            postgresql_where=sa.text("operator_id IS NOT NULL"),
        )

    op.create_table(
        "receipt_requests",
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("pdu_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_receipt_requests_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("message_id", "pdu_id", name=op.f("pk_receipt_requests")),
    )


def downgrade() -> None:
    op.drop_table("receipt_requests")
    with op.batch_alter_table("parts", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_parts_operator",
            sqlite_where=sa.text("operator_id IS NOT NULL"),
            postgresql_where=sa.text("operator_id IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_parts_message_id"))
        batch_op.drop_index(
            "ix_parts_due", sqlite_where=sa.text("state = 0"), postgresql_where=sa.text("state = 0")
        )
        batch_op.drop_index(
            "ix_parts_claims",
            sqlite_where=sa.text("state = 1"),
            postgresql_where=sa.text("state = 1"),
        )

    op.drop_table("parts")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_pending",
            sqlite_where=sa.text("delivered_at IS NULL"),
            postgresql_where=sa.text("delivered_at IS NULL"),
        )

    op.drop_table("outbox")
    with op.batch_alter_table("message_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_aliases_message_id"))

    op.drop_table("message_aliases")
    with op.batch_alter_table("tariffs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_tariffs_default_prefix",
            sqlite_where=sa.text("account_id IS NULL"),
            postgresql_where=sa.text("account_id IS NULL"),
        )

    op.drop_table("tariffs")
    op.drop_table("rate_buckets")
    op.drop_table("originators")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_dedupe")

    op.drop_table("messages")
    with op.batch_alter_table("unmatched_receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_unmatched_receipts_operator")

    op.drop_table("unmatched_receipts")
    op.drop_table("leases")
    op.drop_table("accounts")
