"""accept() for a whole group-commit batch inside one open write transaction: read what the
batch needs in a few set queries, decide every request in memory in arrival order (rate limit,
duplicates, money), then write it all with executemany. A handful of statements per batch,
whatever its size.

Must not commit or roll back: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, select

from smsgate.domain import ratelimit
from smsgate.domain.status import PartState, Status
from smsgate.store.interface import StoreError
from smsgate.store.prepared import BulkInsert
from smsgate.store.records import AcceptRequest, AcceptResult, Outcome
from smsgate.store.schema import (
    accounts,
    message_aliases,
    messages,
    parts,
    rate_buckets,
    receipt_requests,
)
from smsgate.store.upsert import upsert

_ENROUTE = Status.ENROUTE.value
_QUEUED = int(PartState.QUEUED)

_MESSAGE_COLUMNS = (
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
)
_insert_messages = BulkInsert(messages, _MESSAGE_COLUMNS)
_insert_parts = BulkInsert(
    parts, ("id", "message_id", "seq", "total", "concat_ref", "payload", "state", "due_at")
)
_insert_aliases = BulkInsert(message_aliases, ("alias_id", "message_id"))
_insert_receipt_requests = BulkInsert(receipt_requests, ("message_id", "pdu_id"))

_debit = (
    accounts.update()
    .where(accounts.c.id == bindparam("a_id"))
    .values(
        balance=accounts.c.balance - bindparam("a_cost"),
        reserved=accounts.c.reserved + bindparam("a_cost"),
    )
)


@dataclass(slots=True)
class _Account:
    balance: int
    bucket: ratelimit.Bucket | None
    bucket_changed: bool = False
    spent: int = 0


def accept_batch(
    conn: Connection, requests: Sequence[AcceptRequest]
) -> list[AcceptResult | StoreError]:
    account_ids = sorted({r.account_id for r in requests})
    # Locking the accounts first serialises concurrent accepts of one account across nodes
    # (PostgreSQL), so the duplicate and balance checks below see every earlier commit.
    rows = conn.execute(
        select(accounts.c.id, accounts.c.balance)
        .where(accounts.c.id.in_(account_ids))
        .order_by(accounts.c.id)
        .with_for_update()
    )
    state = {row.id: _Account(row.balance, None) for row in rows}

    limited = sorted({r.account_id for r in requests if r.rate_limit is not None} & state.keys())
    if limited:
        rows = conn.execute(
            select(rate_buckets.c.account_id, rate_buckets.c.tokens, rate_buckets.c.updated_at)
            .where(rate_buckets.c.account_id.in_(limited))
            .with_for_update()
        )
        for row in rows:
            state[row.account_id].bucket = ratelimit.Bucket(row.tokens, row.updated_at)

    seen = _recent_keys(conn, requests)

    results: list[AcceptResult | StoreError] = []
    message_rows: list[tuple[object, ...]] = []
    part_rows: list[tuple[object, ...]] = []
    alias_rows: list[tuple[int, int]] = []
    receipt_rows: list[tuple[int, int]] = []
    for request in requests:
        account = state.get(request.account_id)
        if account is None:
            results.append(StoreError(f"unknown account {request.account_id}"))
            continue
        if any(m.account_id != request.account_id for m in request.messages):
            results.append(StoreError("every message of a request must be of its account"))
            continue
        limit = request.rate_limit
        if limit is not None:
            bucket, retry_after = ratelimit.take(
                account.bucket, request.now, limit.rate, limit.burst
            )
            account.bucket, account.bucket_changed = bucket, True
            if retry_after is not None:
                results.append(AcceptResult(retry_after=retry_after))
                continue
        cutoff = request.now - request.dedupe_window
        outcomes: list[Outcome] = []
        for m in request.messages:
            key = (m.account_id, m.dedupe_key)
            last = seen.get(key)
            if last is not None and last >= cutoff:
                outcomes.append(Outcome.DUPLICATE)
                continue
            cost = m.cost
            if cost > account.balance:
                outcomes.append(Outcome.NO_MONEY)
                continue
            account.balance -= cost
            account.spent += cost
            seen[key] = m.created_at if last is None else max(last, m.created_at)
            outcomes.append(Outcome.ACCEPTED)
            message_rows.append(
                (
                    m.id,
                    m.account_id,
                    m.sender,
                    m.phone,
                    m.text,
                    m.data_coding,
                    len(m.parts),
                    m.price_per_part,
                    _ENROUTE,
                    m.door,
                    m.integration_id,
                    m.dedupe_key,
                    m.created_at,
                    m.expires_at,
                )
            )
            part_rows.extend(
                (p.id, m.id, p.seq, p.total, p.concat_ref, p.payload, _QUEUED, request.now)
                for p in m.parts
            )
            alias_rows.extend((a, m.id) for a in m.alias_ids)
            receipt_rows.extend((m.id, r) for r in m.receipt_ids)
        results.append(AcceptResult(retry_after=None, outcomes=tuple(outcomes)))

    _insert_messages.run(conn, message_rows)
    _insert_parts.run(conn, part_rows)
    _insert_aliases.run(conn, alias_rows)
    _insert_receipt_requests.run(conn, receipt_rows)
    debits = [{"a_id": i, "a_cost": a.spent} for i, a in sorted(state.items()) if a.spent]
    if debits:
        conn.execute(_debit, debits)
    buckets = [
        {"account_id": i, "tokens": a.bucket.tokens, "updated_at": a.bucket.updated_at}
        for i, a in sorted(state.items())
        if a.bucket_changed and a.bucket is not None
    ]
    if buckets:
        conn.execute(upsert(conn, rate_buckets, ["account_id"], ["tokens", "updated_at"]), buckets)
    return results


def _recent_keys(
    conn: Connection, requests: Sequence[AcceptRequest]
) -> dict[tuple[int, bytes], float]:
    """The newest created_at of each (account, dedupe_key) the batch mentions, within the
    widest window any of its requests asks for."""
    keys = {m.dedupe_key for r in requests for m in r.messages}
    if not keys:
        return {}
    accounts_ = sorted({r.account_id for r in requests})
    cutoff = min(r.now - r.dedupe_window for r in requests)
    rows = conn.execute(
        select(messages.c.account_id, messages.c.dedupe_key, func.max(messages.c.created_at))
        .where(
            messages.c.account_id.in_(accounts_),
            messages.c.dedupe_key.in_(keys),
            messages.c.created_at >= cutoff,
        )
        .group_by(messages.c.account_id, messages.c.dedupe_key)
    )
    return {(row[0], bytes(row[1])): row[2] for row in rows}
