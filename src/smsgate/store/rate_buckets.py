"""Tokens that requests other than accepts spend from their account's rate bucket (statuses,
balances, sender names, SMPP queries), in one write transaction per batch of requests.

Only the transaction's work: the SQL store batches the calls, the arithmetic is
domain/ratelimit. The accounts are locked first, in id order, as an accept locks them: two
nodes taking one account's first token cannot both start from a full bucket (PostgreSQL),
and the lock order is the accepts' own, so the two never deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from smsgate.domain import ratelimit
from smsgate.store.interface import StoreError
from smsgate.store.records import RateLimit
from smsgate.store.statements import lock_accounts, lock_buckets, save_bucket

# One request's token: its account, its time, its account's limit.
TokenTake = tuple[int, float, RateLimit]


def take_tokens(conn: Connection, takes: Sequence[TokenTake]) -> list[float | StoreError | None]:
    """One answer per take, in order: None (spent), seconds to wait, or StoreError for an
    unknown account. Takes of one account are served in the order given."""
    account_ids = sorted({account_id for account_id, _, _ in takes})
    known = {row[0] for row in lock_accounts.rows(conn, account_ids)}
    buckets: dict[int, ratelimit.Bucket | None] = dict.fromkeys(known)
    if known:
        for account_id, tokens, updated_at in lock_buckets.rows(conn, sorted(known)):
            buckets[account_id] = ratelimit.Bucket(tokens, updated_at)
    answers: list[float | StoreError | None] = []
    for account_id, now, limit in takes:
        if account_id not in known:
            answers.append(StoreError(f"unknown account {account_id}"))
            continue
        bucket, retry_after = ratelimit.take(buckets[account_id], now, limit.rate, limit.burst)
        buckets[account_id] = bucket
        answers.append(retry_after)
    save_bucket.many(
        conn,
        (
            (account_id, bucket.tokens, bucket.updated_at)
            for account_id, bucket in sorted(buckets.items())
            if bucket is not None
        ),
    )
    return answers
