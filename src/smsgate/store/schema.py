"""The tables smsgate keeps, as SQLAlchemy Core metadata: the one description of the data that
the queries are written against and the migrations are checked against.

No queries and no engine-specific behaviour here; migrations/versions/ creates what this says.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

# Named constraints keep migrations reproducible on both engines.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# A caller-given 64-bit id; on SQLite "INTEGER PRIMARY KEY" makes it the rowid itself
# instead of a second index beside a hidden rowid (one B-tree less to write per row).
_ID = BigInteger().with_variant(Integer, "sqlite")

# Money columns hold ten-thousandths of the account's currency; times are epoch seconds.
accounts = Table(
    "accounts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("login", String(64), nullable=False, unique=True),
    Column("api_token_hash", String(128), nullable=True, unique=True),
    Column("password_hash", String(256), nullable=True),
    Column("smpp_password_hash", String(256), nullable=True),
    Column("currency", String(3), nullable=False),
    Column("balance", BigInteger, nullable=False, server_default=text("0")),
    Column("reserved", BigInteger, nullable=False, server_default=text("0")),
    Column("charged", BigInteger, nullable=False, server_default=text("0")),
    Column("rate_limit", Double, nullable=False),
    Column("max_binds", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    # Sees the dashboard's operator pages (smsgate admin accounts set-admin).
    Column("admin", Boolean, nullable=False, server_default=false()),
    Column("created_at", Double, nullable=False),
    # The seq of the account's newest event (events below): bumped under the account's row
    # lock in the transaction that writes the events, so seqs only grow, across nodes.
    Column("event_seq", BigInteger, nullable=False, server_default=text("0")),
)

originators = Table(
    "originators",
    metadata,
    Column("account_id", BigInteger, ForeignKey("accounts.id"), primary_key=True),
    Column("name", String(32), primary_key=True),
)

tariffs = Table(
    "tariffs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=True),
    Column("prefix", String(16), nullable=False),
    Column("price", BigInteger, nullable=False),
    UniqueConstraint("account_id", "prefix"),
    # NULLs are distinct in a unique constraint: the default plan needs its own index.
    Index(
        "uq_tariffs_default_prefix",
        "prefix",
        unique=True,
        sqlite_where=text("account_id IS NULL"),
        postgresql_where=text("account_id IS NULL"),
    ),
)

# The statuses ix_messages_account_failed holds. A query names this very text to use the index
# (SQLite uses a partial index only for a query whose WHERE has its condition's terms).
FAILED_MESSAGES = "status IN ('EXPIRED', 'UNDELIV', 'REJECTD')"

# Message ids are chosen by the caller (the id generator), never by the database.
messages = Table(
    "messages",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=False),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("sender", String(32), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("data_coding", SmallInteger, nullable=False),
    Column("parts", SmallInteger, nullable=False),
    Column("price_per_part", BigInteger, nullable=False),
    Column("status", String(7), nullable=False),  # domain.status.Status, folded from parts
    Column("door", String(8), nullable=False),
    Column("integration_id", String(64), nullable=True),
    Column("dedupe_key", LargeBinary, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("expires_at", Double, nullable=False),
    Column("done_at", Double, nullable=True),
    Column("error", Integer, nullable=False, server_default=text("0")),
    # Native API: the customer's reference for the recipient (`client_ref`), echoed back.
    Column("client_ref", String(64), nullable=True),
    # An account's messages newest first, a page at a time (the native API's search): ids
    # grow with time, so each insert lands at the end of its account's run.
    Index("ix_messages_account_id", "account_id", "id"),
    # One recipient's messages newest first (the native API's search by `phone`).
    Index("ix_messages_account_phone", "account_id", "phone", "id"),
    # The account's failed messages newest first (a search by EXPIRED, UNDELIV or REJECTD):
    # partial, so the messages that are delivered, most of them, never write to it.
    Index(
        "ix_messages_account_failed",
        "account_id",
        "status",
        "id",
        sqlite_where=text(FAILED_MESSAGES),
        postgresql_where=text(FAILED_MESSAGES),
    ),
)

# Each account's messages per UTC hour of creation: how many, and how many of those are
# delivered and failed by now (store/traffic_hours.py keeps it). `hour`: hours since the epoch.
# No foreign key: a new hour's row must take no lock on the account row (traffic_hours.py).
traffic_hours = Table(
    "traffic_hours",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("hour", Integer, primary_key=True, autoincrement=False),
    Column("sent", Integer, nullable=False),
    Column("delivered", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    # SQLite: one B-tree keyed by (account, hour), not a rowid table and an index beside it:
    # a new hour's row is one write, an upsert one descent.
    sqlite_with_rowid=False,
)

# Duplicate detection reads this append-only log, never an index on the hash (dedupe_log.py).
# AUTOINCREMENT: SQLite never reuses a seq, not even one a rolled-back insert drew.
dedupe_log = Table(
    "dedupe_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("account_id", BigInteger, nullable=False),
    Column("dedupe_key", LargeBinary, nullable=False),
    Column("created_at", Double, nullable=False),
    Index("ix_dedupe_log_account", "account_id", "seq"),
    sqlite_autoincrement=True,
)

message_aliases = Table(
    "message_aliases",
    metadata,
    Column("alias_id", _ID, primary_key=True, autoincrement=False),
    Column("message_id", BigInteger, ForeignKey("messages.id"), nullable=False, index=True),
)

# SMPP door: the customer's submit_sm ids that asked for a delivery receipt.
receipt_requests = Table(
    "receipt_requests",
    metadata,
    Column("message_id", BigInteger, ForeignKey("messages.id"), primary_key=True),
    Column("pdu_id", BigInteger, primary_key=True, autoincrement=False),
)

# billing of one part: what happened to the money reserved for it.
BILL_RESERVED = 0
BILL_CHARGED = 1
BILL_REFUNDED = 2

parts = Table(
    "parts",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=False),
    Column("message_id", BigInteger, ForeignKey("messages.id"), nullable=False, index=True),
    Column("seq", SmallInteger, nullable=False),
    Column("total", SmallInteger, nullable=False),
    Column("concat_ref", Integer, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("state", SmallInteger, nullable=False),  # domain.status.PartState
    Column("billing", SmallInteger, nullable=False, server_default=text("0")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("due_at", Double, nullable=False),
    Column("claimed_by", Integer, nullable=True),
    Column("claim_until", Double, nullable=True),
    Column("connector", String(64), nullable=True),
    Column("operator_id", String(80), nullable=True),
    Column("submitted_at", Double, nullable=True),
    Column("done_at", Double, nullable=True),
    Column("error", Integer, nullable=False, server_default=text("0")),
    # Only queued parts are ever looked for by due time: a partial index stays small.
    Index(
        "ix_parts_due",
        "due_at",
        "id",
        sqlite_where=text("state = 0"),
        postgresql_where=text("state = 0"),
    ),
    Index(
        "ix_parts_claims",
        "claim_until",
        sqlite_where=text("state = 1"),
        postgresql_where=text("state = 1"),
    ),
    # Parts waiting for their receipt, by connector and age: what query_sm asks about and
    # what ends EXPIRED when its lifetime is over and no receipt came (receipt_watch.py).
    Index(
        "ix_parts_submitted",
        "connector",
        "submitted_at",
        sqlite_where=text("state = 2"),
        postgresql_where=text("state = 2"),
    ),
    # Receipts look parts up by the operator's id; queued parts have none, so leave them out.
    Index(
        "ix_parts_operator",
        "connector",
        "operator_id",
        sqlite_where=text("operator_id IS NOT NULL"),
        postgresql_where=text("operator_id IS NOT NULL"),
    ),
)

unmatched_receipts = Table(
    "unmatched_receipts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("connector", String(64), nullable=False),
    Column("operator_id", String(80), nullable=False),
    Column("state", SmallInteger, nullable=False),
    Column("error", Integer, nullable=False),
    Column("received_at", Double, nullable=False),
    Index("ix_unmatched_receipts_operator", "connector", "operator_id"),
)

rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("account_id", BigInteger, ForeignKey("accounts.id"), primary_key=True),
    Column("tokens", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
)

# What customers must be told, queued in the transaction of the change it reports, one row
# per item, pumped per (kind, account): "receipts" (SMPP deliver_sm; the pdu_id/status/error
# columns), "callbacks" (a per-message dlr-url), and kinds the outbox's other transports add
# ("webhooks", "inbound"). `payload`: the item as its transport needs it (JSON text), for
# kinds whose columns above do not say it all. `due_at`: not sent before (a retry's backoff).
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("kind", String(16), nullable=False, server_default=text("'receipts'")),
    Column("message_id", BigInteger, ForeignKey("messages.id"), nullable=True),
    Column("pdu_id", BigInteger, nullable=True),
    Column("status", String(7), nullable=True),
    Column("error", Integer, nullable=False, server_default=text("0")),
    Column("payload", Text, nullable=True),
    Column("created_at", Double, nullable=False),
    Column("due_at", Double, nullable=True),
    # When the row left the queue: delivered, or given up (then also dead_at, a dead letter).
    Column("delivered_at", Double, nullable=True),
    Column("dead_at", Double, nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text, nullable=True),
    Index(
        "ix_outbox_pending",
        "kind",
        "account_id",
        "id",
        sqlite_where=text("delivered_at IS NULL"),
        postgresql_where=text("delivered_at IS NULL"),
    ),
    # A message's callbacks, for its page; only callback rows (few: a customer asks for them
    # per message), so receipts and webhooks, the busy kinds, write no entry here.
    Index(
        "ix_outbox_callbacks_message",
        "message_id",
        sqlite_where=text("kind = 'callbacks'"),
        postgresql_where=text("kind = 'callbacks'"),
    ),
    # Dead letters by account, for an account's page of failed deliveries: few rows (given up
    # after a day of retries), so the index is small and the busy path writes nothing to it.
    Index(
        "ix_outbox_dead",
        "account_id",
        "id",
        sqlite_where=text("dead_at IS NOT NULL"),
        postgresql_where=text("dead_at IS NOT NULL"),
    ),
)

# Every attempt an HTTP transport made to deliver an outbox item (status, latency, error).
outbox_attempts = Table(
    "outbox_attempts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("outbox_id", BigInteger, ForeignKey("outbox.id"), nullable=False),
    Column("at", Double, nullable=False),
    Column("status", Integer, nullable=True),  # the HTTP status; None: no response came
    Column("latency", Double, nullable=False),
    Column("error", Text, nullable=True),
    Index("ix_outbox_attempts_outbox", "outbox_id", "id"),
)

# HTTP, JSON and XML doors: the URL a message's status is pushed to (dlr_url, callback_url).
message_callbacks = Table(
    "message_callbacks",
    metadata,
    Column("message_id", _ID, ForeignKey("messages.id"), primary_key=True, autoincrement=False),
    Column("url", Text, nullable=False),
    Column("method", String(4), nullable=False),
    Column("every_status", Boolean, nullable=False),  # else the final status only
    # Kannel's dlr-mask (domain/dlr_mask.py): which final statuses are pushed (1 delivered,
    # 2 failed, 16 rejected); its 4 and 8 are every_status.
    Column("dlr_mask", SmallInteger, nullable=False, server_default=text("19")),
)

# Every change of a message, in the transaction of the change, numbered per account
# (store/events.py); replayed in seq order by GET /api/v1/events.
events = Table(
    "events",
    metadata,
    Column("account_id", BigInteger, ForeignKey("accounts.id"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(16), nullable=False),
    Column("at", Double, nullable=False),
    Column("message_id", BigInteger, nullable=True),
    Column("part_id", BigInteger, nullable=True),
    Column("data", Text, nullable=True),  # JSON object of the type's details, if any
    # SQLite: one B-tree keyed by (account, seq) instead of a rowid table and an index beside
    # it; every change writes a row here, so the second B-tree was a second write per event.
    sqlite_with_rowid=False,
)

# An account's webhook endpoints (admin webhooks): signed JSON events of the types listed
# (space-separated) go to `url`. `secret` and, during a rotation, `old_secret` are signing keys
# (whsec_...) that every delivery needs, so they are stored as given, not hashed. Health:
# `failing_since`, `disabled_at`/`disabled_reason` (a day of failures), `blocked_until` (the
# endpoint's deliveries wait behind one due for a retry then, so they arrive in order).
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("event_types", Text, nullable=False),
    Column("secret", Text, nullable=False),
    Column("old_secret", Text, nullable=True),
    Column("created_at", Double, nullable=False),
    Column("failing_since", Double, nullable=True),
    Column("disabled_at", Double, nullable=True),
    Column("disabled_reason", Text, nullable=True),
    Column("blocked_until", Double, nullable=True),
    Index("ix_webhook_endpoints_account", "account_id"),
)

# The money ledger beside the messages: every change of a balance that is not a message's charge
# (store/ledger.py). A message row is its own charge (parts x price_per_part at created_at), so
# accepting writes nothing here; refunds, top-ups and corrections do, in the transaction that
# moves the money, and retention folds deleted messages' charges into one `carried` row per
# account. `amount` is signed: what the entry did to the spendable balance.
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("at", Double, nullable=False),
    Column("message_id", BigInteger, nullable=True),  # a refund's message (no FK: kept after it)
    Index("ix_ledger_entries_account", "account_id", "at", "id"),
)

# SMPP door: parts of a long message a customer sent as several submit_sm, each already
# answered with its own id (`id`), kept until the last one arrives and the whole message is
# accepted (or refused, or given up). `claimed_until`: a node is finishing the message.
held_parts = Table(
    "held_parts",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=False),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("source", String(32), nullable=False),
    Column("destination", String(32), nullable=False),
    Column("ref", Integer, nullable=False),
    Column("total", SmallInteger, nullable=False),
    Column("seq", SmallInteger, nullable=False),
    Column("data_coding", SmallInteger, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("wants_receipt", Boolean, nullable=False),
    Column("lifetime", Double, nullable=True),  # seconds; None: the account's default
    Column("received_at", Double, nullable=False),
    Column("claimed_until", Double, nullable=True),
    Index("ix_held_parts_message", "account_id", "source", "destination", "ref", "total", "seq"),
)

leases = Table(
    "leases",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", Double, nullable=False),
)

# A customer's Idempotency-Key (per account) and the first answer given under it: a second
# request with the key gets that answer instead of sending again, on whichever node it lands.
# `status` and `body` stay NULL while the first request is still being served.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("account_id", BigInteger, ForeignKey("accounts.id"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", Double, nullable=False),
    Column("status", SmallInteger, nullable=True),
    Column("body", LargeBinary, nullable=True),
)

# Failed password checks by key ("address:...", "login-from:...", "login:..."), shared by
# every worker and node; a stale row (idle, its lock over) is deleted by the next count.
login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("last_at", Double, nullable=False, index=True),
    Column("locked_until", Double, nullable=False),
)

# Inbound SMS (MO): which account a number (and, on a shared short code, a first word) belongs
# to. keyword "" is the number's default route; numbers are digits only.
inbound_numbers = Table(
    "inbound_numbers",
    metadata,
    Column("number", String(16), primary_key=True),
    Column("keyword", String(32), primary_key=True, server_default=text("''")),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=False, index=True),
)

# Every inbound SMS, routed (account_id set) or unroutable (account_id NULL, `reason` says why):
# none is dropped. `id` only grows: the inbound API's `after=` cursor.
inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id"), nullable=True),
    Column("source", String(32), nullable=False),
    Column("destination", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("data_coding", SmallInteger, nullable=False),
    Column("parts", SmallInteger, nullable=False),
    Column("total", SmallInteger, nullable=False),
    Column("keyword", String(32), nullable=False, server_default=text("''")),
    Column("reason", Text, nullable=False, server_default=text("''")),
    Column("connector", String(64), nullable=False),
    Column("received_at", Double, nullable=False),
    Index("ix_inbound_messages_account", "account_id", "id"),
)

# Parts of concatenated inbound SMS waiting for their siblings (gateway/inbound_intake.py), kept
# so that a node killed between two parts loses none: it loads its own (`node_id`) again when
# it restarts. A message's rows are deleted in the transaction that stores it whole (or, after
# the reassembly timeout, as what arrived). One row per part: a copy the operator sends again
# finds the unique key taken.
inbound_parts = Table(
    "inbound_parts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("node_id", Integer, nullable=False),
    Column("connector", String(64), nullable=False),
    Column("source", String(32), nullable=False),
    Column("source_ton", SmallInteger, nullable=False),
    Column("destination", String(32), nullable=False),
    Column("ref", Integer, nullable=False),
    Column("total", SmallInteger, nullable=False),
    Column("seq", SmallInteger, nullable=False),
    Column("sixteen_bit", Boolean, nullable=False),
    Column("data_coding", SmallInteger, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("received_at", Double, nullable=False),
    Index(
        "ux_inbound_parts_part",
        "node_id",
        "source",
        "destination",
        "ref",
        "total",
        "sixteen_bit",
        "seq",
        unique=True,
    ),
)

# Numbers an account must not send to: opted out by SMS (source "sms") or by the admin.
suppressions = Table(
    "suppressions",
    metadata,
    Column("account_id", BigInteger, ForeignKey("accounts.id"), primary_key=True),
    Column("phone", String(20), primary_key=True),
    Column("source", String(8), nullable=False),
    Column("created_at", Double, nullable=False),
)
