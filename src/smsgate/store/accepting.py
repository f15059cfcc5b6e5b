"""accept() for a whole group-commit batch inside one open write transaction: read what the
batch needs in a few set queries, decide every request in memory in arrival order (rate limit,
duplicates, money), then write it all with executemany. A handful of statements per batch,
whatever its size.

Must not commit or roll back: the caller owns the transaction, and hands the returned
`Accepted.appended` to `DedupeMemory.committed` once it has committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from smsgate.domain import ratelimit
from smsgate.domain.status import PartState, Status
from smsgate.store import held_parts
from smsgate.store.dedupe_log import Appended, DedupeMemory, LogRow
from smsgate.store.events import ACCEPTED, data_of
from smsgate.store.interface import StoreError
from smsgate.store.records import AcceptRequest, AcceptResult, Outcome
from smsgate.store.statements import (
    debit,
    insert_aliases,
    insert_callbacks,
    insert_events,
    insert_messages,
    insert_parts,
    insert_receipt_requests,
    lock_accounts,
    lock_buckets,
    save_bucket,
)
from smsgate.store.traffic_hours import HourCounts

_ENROUTE = Status.ENROUTE.value
# An accepted event's data for the usual part counts, built once.
_PARTS_DATA = {n: data_of(parts=n) for n in range(1, 11)}
_QUEUED = int(PartState.QUEUED)


@dataclass(slots=True)
class _Account:
    balance: int
    bucket: ratelimit.Bucket | None
    event_seq: int  # the account's newest event seq, as locked
    bucket_changed: bool = False
    spent: int = 0
    events: int = 0  # this batch's


@dataclass(slots=True)
class Accepted:
    results: list[AcceptResult | StoreError]
    appended: Appended


def accept_batch(
    conn: Connection, requests: Sequence[AcceptRequest], dedupe: DedupeMemory
) -> Accepted:
    account_ids = sorted({r.account_id for r in requests})
    # Locking the accounts first serialises concurrent accepts of one account across nodes
    # (PostgreSQL), so the duplicate and balance checks below see every earlier commit.
    state = {
        i: _Account(balance, None, seq) for i, balance, seq in lock_accounts.rows(conn, account_ids)
    }

    limited = sorted({r.account_id for r in requests if r.rate_limit is not None} & state.keys())
    if limited:
        for account_id, tokens, updated_at in lock_buckets.rows(conn, limited):
            state[account_id].bucket = ratelimit.Bucket(tokens, updated_at)

    now = max(r.now for r in requests)
    dedupe.catch_up(conn, state.keys(), now, max(r.dedupe_window for r in requests))
    batch_keys: dict[tuple[int, bytes], float] = {}  # this batch's own, newest first-come

    results: list[AcceptResult | StoreError] = []
    message_rows: list[tuple[object, ...]] = []
    part_rows: list[tuple[object, ...]] = []
    alias_rows: list[tuple[int, int]] = []
    receipt_rows: list[tuple[int, int]] = []
    callback_rows: list[tuple[int, str, str, bool, int]] = []
    event_rows: list[tuple[object, ...]] = []
    log_rows: list[LogRow] = []
    # SMPP long messages assembled from held parts: accepted only while those parts are
    # still held (another node's sweep may have finished them), and deleted with the accept.
    wanted_held = [i for r in requests for m in r.messages for i in m.held_ids]
    held = held_parts.present(conn, wanted_held) if wanted_held else set()
    taken_held: list[int] = []
    traffic = HourCounts()
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
            if m.held_ids and not held.issuperset(m.held_ids):
                outcomes.append(Outcome.GONE)
                continue
            key = (m.account_id, m.dedupe_key)
            last = batch_keys.get(key)
            if last is None:
                last = dedupe.newest(m.account_id, m.dedupe_key)
            if last is not None and last >= cutoff:
                outcomes.append(Outcome.DUPLICATE)
                continue
            cost = m.cost
            if cost > account.balance:
                outcomes.append(Outcome.NO_MONEY)
                continue
            account.balance -= cost
            account.spent += cost
            batch_keys[key] = m.created_at if last is None else max(last, m.created_at)
            log_rows.append((m.account_id, m.dedupe_key, m.created_at))
            outcomes.append(Outcome.ACCEPTED)
            traffic.created(m.account_id, m.created_at)
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
                    m.client_ref,
                )
            )
            due = request.now if m.send_at is None else m.send_at
            part_rows.extend(
                (p.id, m.id, p.seq, p.total, p.concat_ref, p.payload, _QUEUED, due) for p in m.parts
            )
            alias_rows.extend((a, m.id) for a in m.alias_ids)
            receipt_rows.extend((m.id, r) for r in m.receipt_ids)
            account.events += 1
            event_rows.append(
                (
                    m.account_id,
                    account.event_seq + account.events,
                    ACCEPTED,
                    request.now,
                    m.id,
                    None,
                    _PARTS_DATA[len(m.parts)] if len(m.parts) < 11 else data_of(parts=len(m.parts)),
                )
            )
            callback = m.callback
            if callback is not None:
                callback_rows.append(
                    (m.id, callback.url, callback.method, callback.every_status, callback.dlr_mask)
                )
            if m.held_ids:
                held.difference_update(m.held_ids)
                taken_held.extend(m.held_ids)
        results.append(AcceptResult(retry_after=None, outcomes=tuple(outcomes)))

    insert_messages.run(conn, message_rows)
    insert_parts.run(conn, part_rows)
    insert_aliases.run(conn, alias_rows)
    insert_receipt_requests.run(conn, receipt_rows)
    insert_callbacks.run(conn, callback_rows)
    held_parts.delete(conn, taken_held)
    insert_events.run(conn, event_rows)
    debit.many(
        conn,
        ((a.spent, a.spent, a.events, i) for i, a in sorted(state.items()) if a.spent or a.events),
    )
    save_bucket.many(
        conn,
        (
            (i, a.bucket.tokens, a.bucket.updated_at)
            for i, a in sorted(state.items())
            if a.bucket_changed and a.bucket is not None
        ),
    )
    appended = dedupe.append(conn, log_rows, now)
    traffic.write(conn)  # last (traffic_hours.py says why)
    return Accepted(results, appended)
