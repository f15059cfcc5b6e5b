"""Every plain-SQL statement the SQL store runs, each under one name, in one place: the hot
paths' statements go to the driver as written (plain_sql, prepared), beside the SQLAlchemy
Core queries of the cold paths. tests/store/test_statements.py checks each one's tables and
columns against schema.py, so a renamed column fails there and not in production.

Only statement texts here, no policy: the modules that run them say when and why. Their rows
are the drivers' plain tuples (no names: a named Row per row is the SQLAlchemy cost these
statements exist to avoid), so each SELECT says below the order its reader unpacks them in.
"""

from __future__ import annotations

from smsgate.domain.status import PartState
from smsgate.store.plain_sql import PlainSql
from smsgate.store.prepared import BulkInsert
from smsgate.store.schema import (
    dedupe_log,
    events,
    ledger_entries,
    message_aliases,
    message_callbacks,
    messages,
    outbox,
    outbox_attempts,
    parts,
    receipt_requests,
)

_QUEUED = int(PartState.QUEUED)
_SENDING = int(PartState.SENDING)

# -- accept (accepting.py) -----------------------------------------------------------------------
insert_messages = BulkInsert(
    messages,
    (
        "id",
        "account_id",
        "sender",
        "phone",
        "text",
        "data_coding",
        "parts",
        "price_per_part",
        "status",
        "door",
        "integration_id",
        "dedupe_key",
        "created_at",
        "expires_at",
        "client_ref",
    ),
)
insert_parts = BulkInsert(
    parts, ("id", "message_id", "seq", "total", "concat_ref", "payload", "state", "due_at")
)
insert_aliases = BulkInsert(message_aliases, ("alias_id", "message_id"))
insert_receipt_requests = BulkInsert(receipt_requests, ("message_id", "pdu_id"))
insert_callbacks = BulkInsert(
    message_callbacks, ("message_id", "url", "method", "every_status", "dlr_mask")
)
# Rows: (id, balance, event_seq).
lock_accounts = PlainSql(
    "SELECT id, balance, event_seq FROM accounts WHERE id = ANY(?) ORDER BY id", lock="FOR UPDATE"
)
# The accepted messages' money and their events' seqs (events.py), on the locked rows.
debit = PlainSql(
    "UPDATE accounts SET balance = balance - ?, reserved = reserved + ?,"
    " event_seq = event_seq + ? WHERE id = ?"
)

# -- the event log (events.py) -------------------------------------------------------------------
# Rows: (event_seq,): the account's newest seq after taking `count` more.
bump_event_seq = PlainSql(
    "UPDATE accounts SET event_seq = event_seq + ? WHERE id = ? RETURNING event_seq"
)
insert_events = BulkInsert(
    events, ("account_id", "seq", "type", "at", "message_id", "part_id", "data")
)
# Rows: (seq, type, at, message_id, part_id, data).
events_after = PlainSql(
    "SELECT seq, type, at, message_id, part_id, data FROM events"
    " WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?"
)

# -- rate-limit buckets: accepts and held parts ----------------------------------------------------
# FOR UPDATE: two nodes taking one account's tokens take turns (PostgreSQL).
# Rows: (account_id, tokens, updated_at).
lock_buckets = PlainSql(
    "SELECT account_id, tokens, updated_at FROM rate_buckets WHERE account_id = ANY(?)",
    lock="FOR UPDATE",
)
save_bucket = PlainSql(
    "INSERT INTO rate_buckets (account_id, tokens, updated_at) VALUES (?, ?, ?)"
    " ON CONFLICT (account_id) DO UPDATE"
    " SET tokens = excluded.tokens, updated_at = excluded.updated_at"
)

# -- the dedupe log (dedupe_log.py) ----------------------------------------------------------------
# Rows: (seq, dedupe_key, created_at).
dedupe_since = PlainSql(
    "SELECT seq, dedupe_key, created_at FROM dedupe_log WHERE account_id = ? AND seq > ?"
    " ORDER BY seq"
)
dedupe_newest_seq = PlainSql("SELECT max(seq) FROM dedupe_log WHERE account_id = ?")
dedupe_prune = PlainSql("DELETE FROM dedupe_log WHERE seq <= ?")
dedupe_append = BulkInsert(dedupe_log, ("account_id", "dedupe_key", "created_at"))

# -- hot reads (hot_reads.py) ----------------------------------------------------------------------
# A message answers for its own id and for its aliases (the other PDUs' ids of an SMPP
# message sent as several submit_sm); other accounts' ids are not found, like unknown ones.
# A part of a long SMPP message held until its other parts come is ENROUTE under the id it was
# answered with (its message, once whole, answers for that id in the same transaction that
# drops the held row: one statement sees one or the other). Rows: (id, status).
statuses = PlainSql(
    "SELECT id, 'ENROUTE' FROM held_parts WHERE id = ANY(?) AND account_id = ?"
    " UNION ALL"
    " SELECT id, status FROM messages WHERE id = ANY(?) AND account_id = ?"
    " UNION ALL"
    " SELECT a.alias_id, m.status FROM message_aliases a JOIN messages m ON m.id = a.message_id"
    " WHERE a.alias_id = ANY(?) AND m.account_id = ?"
)
# Rows in OutboxItem's field order, of one kind; a receipt's done_at is the message's, or the
# row's own time for a message refused before it was ever final (held parts). A row about no
# message (LEFT JOIN) gets empty message fields. Rows whose retry is not due yet wait.
outbox_pending = PlainSql(
    "SELECT o.id, o.account_id, COALESCE(o.message_id, 0), COALESCE(o.pdu_id, 0), o.status,"
    " o.error, COALESCE(m.phone, ''), COALESCE(m.sender, ''), COALESCE(m.text, ''),"
    " COALESCE(m.parts, 0), COALESCE(m.created_at, o.created_at),"
    " COALESCE(m.done_at, o.created_at), o.attempts, o.kind, o.payload, o.created_at"
    " FROM outbox o LEFT JOIN messages m ON m.id = o.message_id"
    " WHERE o.kind = ? AND o.account_id = ? AND o.id > ? AND o.delivered_at IS NULL"
    " AND (o.due_at IS NULL OR o.due_at <= ?) ORDER BY o.id LIMIT ?"
)
# The pump asks this every 100 ms; the partial index of pending rows answers it.
outbox_accounts = PlainSql(
    "SELECT DISTINCT account_id FROM outbox WHERE kind = ? AND delivered_at IS NULL"
    " AND (due_at IS NULL OR due_at <= ?) ORDER BY account_id"
)
# Every node reads the leases every lease round (gateway/leases.py): key, holder, expires_at.
live_leases = PlainSql("SELECT key, holder, expires_at FROM leases WHERE expires_at > ?")
outbox_delivered = PlainSql(
    "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1"
    " WHERE id = ANY(?) AND delivered_at IS NULL"
)
# -- attempts of HTTP transports (sql_store.outbox_attempted) --------------------------------------
log_attempts = BulkInsert(outbox_attempts, ("outbox_id", "at", "status", "latency", "error"))
outbox_retry = PlainSql(
    "UPDATE outbox SET due_at = ?, last_error = ?, attempts = attempts + 1"
    " WHERE id = ? AND delivered_at IS NULL"
)
outbox_dead = PlainSql(
    "UPDATE outbox SET delivered_at = ?, dead_at = ?, last_error = ?, attempts = attempts + 1"
    " WHERE id = ? AND delivered_at IS NULL"
)
# Rows: (outbox_id, at, status, latency, error).
attempts_of = PlainSql(
    "SELECT outbox_id, at, status, latency, error FROM outbox_attempts WHERE outbox_id = ?"
    " ORDER BY id"
)

# -- claims (sql_claims.py) ------------------------------------------------------------------------
# The claim reads the due parts with everything submit_sm needs, then marks exactly those: on
# PostgreSQL concurrent claimers skip each other's locked rows; on SQLite BEGIN IMMEDIATE
# already serialises them. Rows in ClaimedPart's field order (attempts before the claim).
due_parts = PlainSql(
    f"""SELECT p.id, p.message_id, m.account_id, m.sender, m.phone, m.data_coding, p.seq,
        p.total, p.concat_ref, p.payload, p.attempts, m.expires_at
    FROM parts p JOIN messages m ON m.id = p.message_id
    WHERE p.state = {_QUEUED} AND p.due_at <= ? AND m.expires_at > ?
    ORDER BY p.due_at, p.id LIMIT ?""",
    lock="FOR UPDATE OF p SKIP LOCKED",
)
claim = PlainSql(
    f"UPDATE parts SET state = {_SENDING}, claimed_by = ?, claim_until = ?,"
    f" attempts = attempts + 1 WHERE id = ANY(?) AND state = {_QUEUED}"
)
# What the expiry sweep needs besides the lapsed parts: when the next queued part lapses.
earliest_queued_expiry = PlainSql(
    "SELECT min(m.expires_at) FROM parts p JOIN messages m ON m.id = p.message_id"
    f" WHERE p.state = {_QUEUED}"
)
earliest_expiry_of = PlainSql(
    "SELECT min(m.expires_at) FROM parts p JOIN messages m ON m.id = p.message_id"
    " WHERE p.id = ANY(?)"
)

# -- receipt matching (sql_receipts.py) ------------------------------------------------------------
# Rows: (id, connector, operator_id, state, error, received_at).
early_receipts = PlainSql(
    "SELECT id, connector, operator_id, state, error, received_at FROM unmatched_receipts"
    " WHERE connector = ANY(?) AND operator_id = ANY(?) ORDER BY id",
    lock="FOR UPDATE",
)
forget_receipts = PlainSql("DELETE FROM unmatched_receipts WHERE id = ANY(?)")
keep_receipts = PlainSql(
    "INSERT INTO unmatched_receipts (connector, operator_id, state, error, received_at)"
    " VALUES (?, ?, ?, ?, ?)"
)
# PostgreSQL only: a per-connector lock that serialises receipt matching (sql_receipts.py).
lock_receipt_matching = PlainSql("SELECT pg_advisory_xact_lock(hashtext(?))")

# -- moving parts after accept (progress.py) -------------------------------------------------------
# The columns of a part as a change sees it, in LivePart's field order.
# c.every_status: NULL when the message has no callback URL (most), so only messages that have
# one cost the callbacks' own query.
_LIVE_SELECT = """
    SELECT p.id, p.message_id, m.account_id, m.price_per_part, p.state, p.billing,
        p.connector, p.operator_id, p.submitted_at, p.done_at, p.error, p.claimed_by,
        p.claim_until, m.parts, m.status, m.created_at, c.every_status
    FROM parts p JOIN messages m ON m.id = p.message_id
    LEFT JOIN message_callbacks c ON c.message_id = m.id
"""
_LOCK_PARTS = "FOR UPDATE OF p"
parts_by_id = PlainSql(_LIVE_SELECT + "WHERE p.id = ANY(?) ORDER BY p.id", lock=_LOCK_PARTS)
# No "operator_id IS NOT NULL" here: SQLite sees that IN implies it and uses the partial
# index for equality; spelled out, it turns the lookup into a range scan of every submitted part.
parts_by_operator = PlainSql(
    _LIVE_SELECT + "WHERE p.connector = ANY(?) AND p.operator_id = ANY(?) ORDER BY p.id",
    lock=_LOCK_PARTS,
)
save_part = PlainSql(
    "UPDATE parts SET state = ?, billing = ?, connector = ?, operator_id = ?, submitted_at = ?,"
    " done_at = ?, error = ?, claimed_by = ?, claim_until = ? WHERE id = ?"
)
# A part whose connector, operator id, submit time and claim are as loaded.
save_part_end = PlainSql(
    "UPDATE parts SET state = ?, billing = ?, done_at = ?, error = ? WHERE id = ?"
)
move_money = PlainSql(
    "UPDATE accounts SET balance = balance + ?, reserved = reserved + ?, charged = charged + ?"
    " WHERE id = ?"
)
# Refunds (and other ledger lines) written in the transaction that moves their money.
insert_ledger_entries = BulkInsert(
    ledger_entries, ("account_id", "kind", "amount", "at", "message_id")
)
save_message = PlainSql("UPDATE messages SET status = ?, done_at = ?, error = ? WHERE id = ?")
# Locking the messages before reading their parts makes two nodes finishing parts of one
# message take turns, so the second one sees the first one's parts (PostgreSQL).
# Rows: (id, status).
lock_messages = PlainSql(
    "SELECT id, status FROM messages WHERE id = ANY(?) ORDER BY id", lock="FOR UPDATE"
)
# Rows: (message_id, state, error).
part_states = PlainSql(
    "SELECT message_id, state, error FROM parts WHERE message_id = ANY(?) ORDER BY id"
)
# Rows: (message_id, pdu_id).
receipts_wanted = PlainSql(
    "SELECT message_id, pdu_id FROM receipt_requests WHERE message_id = ANY(?)"
    " ORDER BY message_id, pdu_id"
)
# Rows: (message_id, url, method, every_status, dlr_mask).
callbacks_wanted = PlainSql(
    "SELECT message_id, url, method, every_status, dlr_mask FROM message_callbacks"
    " WHERE message_id = ANY(?) ORDER BY message_id"
)
# A customer receipt to pump (doors/smpp/receipts.py); also queued by held_parts.refuse.
queue_outbox = PlainSql(
    "INSERT INTO outbox (account_id, kind, message_id, pdu_id, status, error, created_at,"
    " attempts) VALUES (?, 'receipts', ?, ?, ?, ?, ?, 0)"
)
# An outbox item of any other kind: (account_id, kind, message_id or NULL, status or NULL,
# error, payload JSON or NULL, created_at, due_at or NULL); attempts start at the column's 0.
queue_outbox_item = BulkInsert(
    outbox,
    ("account_id", "kind", "message_id", "status", "error", "payload", "created_at", "due_at"),
)

# -- webhook endpoints (webhook_events.py) ---------------------------------------------------------
# Rows: (id, account_id, event_types) of the enabled endpoints of some accounts.
# What a message.status webhook says of its message (webhook_events.described).
# Rows: (id, phone, sender, client_ref, parts).
message_details = PlainSql(
    "SELECT id, phone, sender, client_ref, parts FROM messages WHERE id = ANY(?)"
)
webhook_subscribers = PlainSql(
    "SELECT id, account_id, event_types FROM webhook_endpoints"
    " WHERE account_id = ANY(?) AND disabled_at IS NULL ORDER BY id"
)

# -- parts of long SMPP messages (held_parts.py) ---------------------------------------------------
# The columns of a held part, in HeldPart's field order.
_HELD_COLUMNS = (
    "id, account_id, source, destination, ref, total, seq, data_coding, payload,"
    " wants_receipt, lifetime, received_at"
)
_GROUP = "account_id = ? AND source = ? AND destination = ? AND ref = ? AND total = ?"
# Two nodes holding two parts of one message take turns (PostgreSQL), so the second one sees
# the first one's part and completes the message; SQLite's write lock does the same.
lock_account = PlainSql("SELECT id FROM accounts WHERE id = ?", lock="FOR UPDATE")
# Rows: (id, seq, claimed_until).
held_group_rows = PlainSql(f"SELECT id, seq, claimed_until FROM held_parts WHERE {_GROUP}")
held_group_parts = PlainSql(f"SELECT {_HELD_COLUMNS} FROM held_parts WHERE {_GROUP} ORDER BY seq")
hold_insert = PlainSql(
    f"INSERT INTO held_parts ({_HELD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
hold_replace = PlainSql(
    "UPDATE held_parts SET data_coding = ?, payload = ?, wants_receipt = ?, lifetime = ?"
    " WHERE id = ?"
)
held_claim = PlainSql(f"UPDATE held_parts SET claimed_until = ? WHERE {_GROUP}")
# Rows: (account_id, source, destination, ref, total, count, first received_at, claimed_until).
held_groups = PlainSql(
    "SELECT account_id, source, destination, ref, total, count(*), min(received_at),"
    " max(claimed_until) FROM held_parts GROUP BY account_id, source, destination, ref, total"
)
held_present = PlainSql("SELECT id FROM held_parts WHERE id = ANY(?)")
held_delete = PlainSql("DELETE FROM held_parts WHERE id = ANY(?)")
refused_message = PlainSql(
    "INSERT INTO messages (id, account_id, sender, phone, text, data_coding, parts,"
    " price_per_part, status, door, integration_id, dedupe_key, created_at, expires_at,"
    " done_at, error) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, 'smpp', NULL, ?, ?, ?, ?, ?)"
)
refused_alias = PlainSql("INSERT INTO message_aliases (alias_id, message_id) VALUES (?, ?)")

# -- per-hour traffic (traffic_hours.py) -----------------------------------------------------------
# Rows: (account_id, hour, sent, delivered, failed) to add to the hour's counts.
add_traffic_hours = PlainSql(
    "INSERT INTO traffic_hours (account_id, hour, sent, delivered, failed) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (account_id, hour) DO UPDATE SET sent = traffic_hours.sent + excluded.sent,"
    " delivered = traffic_hours.delivered + excluded.delivered,"
    " failed = traffic_hours.failed + excluded.failed"
)
