"""The rate-limit buckets' two statements, for every write that takes a token: accepts
(accepting.py) and parts of long SMPP messages (held_parts.py). The arithmetic is
domain/ratelimit.py."""

from __future__ import annotations

from smsgate.store.plain_sql import PlainSql

# FOR UPDATE: two nodes taking one account's tokens take turns (PostgreSQL).
lock_buckets = PlainSql(
    "SELECT account_id, tokens, updated_at FROM rate_buckets WHERE account_id = ANY(?)",
    lock="FOR UPDATE",
)
save_bucket = PlainSql(
    "INSERT INTO rate_buckets (account_id, tokens, updated_at) VALUES (?, ?, ?)"
    " ON CONFLICT (account_id) DO UPDATE"
    " SET tokens = excluded.tokens, updated_at = excluded.updated_at"
)
