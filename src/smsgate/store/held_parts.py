"""Parts of long SMPP messages, kept while the others arrive: functions of an open write
transaction (the caller owns it, as with accepting.py).

Each part is answered as soon as it is stored, so a customer may send the next one only after
that answer (a window of one) and the message still completes. The part that completes a
message claims the whole group in the same transaction; accepting the message deletes the
group in the accept's transaction (accepting.py), refusing it turns the group into a REJECTD
message (`refuse`). A node that dies in between leaves a claim that lapses, and `due` hands
the group to another node's sweep, so an answered part is never lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from smsgate.domain import ratelimit
from smsgate.domain.status import Status
from smsgate.store.records import HeldDue, HeldPart, HoldResult, RateLimit, RefusedMessage
from smsgate.store.statements import (
    held_claim,
    held_delete,
    held_group_parts,
    held_group_rows,
    held_groups,
    held_present,
    hold_insert,
    hold_replace,
    lock_account,
    lock_buckets,
    queue_outbox,
    refused_alias,
    refused_message,
    save_bucket,
)
from smsgate.store.traffic_hours import HourCounts

_REJECTD = Status.REJECTD.value


def _key(part: HeldPart) -> tuple[int, str, str, int, int]:
    return (part.account_id, part.source, part.destination, part.ref, part.total)


def _part(row: Sequence[Any]) -> HeldPart:
    (id_, account_id, source, destination, ref, total, seq, coding, payload, wants, life, at) = row
    return HeldPart(
        id_,
        account_id,
        source,
        destination,
        ref,
        total,
        seq,
        coding,
        bytes(payload),
        bool(wants),
        life,
        at,
    )


def hold(
    conn: Connection,
    part: HeldPart,
    now: float,
    claim_for: float,
    rate_limit: RateLimit | None = None,
) -> HoldResult:
    """Keep one part. A part sent again (same message, same seq) replaces the earlier copy
    and answers with its id; the part that completes its message claims it for `claim_for`.
    Each part is a request of its account: it takes a rate-limit token (the whole message
    takes none), and a part refused for the limit is not kept."""
    key = _key(part)
    lock_account.rows(conn, part.account_id)
    if rate_limit is not None:
        found = lock_buckets.rows(conn, [part.account_id])
        bucket = ratelimit.Bucket(found[0][1], found[0][2]) if found else None
        bucket, retry_after = ratelimit.take(bucket, now, rate_limit.rate, rate_limit.burst)
        if retry_after is not None:
            return HoldResult(0, retry_after=retry_after)
        save_bucket.run(conn, part.account_id, bucket.tokens, bucket.updated_at)
    rows = held_group_rows.rows(conn, *key)
    by_seq = {int(seq): int(id_) for id_, seq, _ in rows}
    if any(claimed is not None for _, _, claimed in rows):
        # Its message is complete and being finished: this is a late copy of one of its parts.
        return HoldResult(by_seq.get(part.seq, min(by_seq.values())))
    existing = by_seq.get(part.seq)
    if existing is not None:
        hold_replace.run(
            conn, part.data_coding, part.payload, part.wants_receipt, part.lifetime, existing
        )
        return HoldResult(existing)
    hold_insert.run(
        conn,
        part.id,
        *key[:4],
        part.total,
        part.seq,
        part.data_coding,
        part.payload,
        part.wants_receipt,
        part.lifetime,
        part.received_at,
    )
    if len(rows) + 1 < part.total:
        return HoldResult(part.id)
    held_claim.run(conn, now + claim_for, *key)
    return HoldResult(part.id, tuple(_part(r) for r in held_group_parts.rows(conn, *key)))


def due(conn: Connection, now: float, incomplete_before: float, claim_for: float) -> HeldDue:
    """Claim what a sweep must finish: complete messages whose claim lapsed, and incomplete
    ones whose first part came before `incomplete_before` (and that nobody holds)."""
    complete: list[tuple[HeldPart, ...]] = []
    incomplete: list[tuple[HeldPart, ...]] = []
    for account_id, source, destination, ref, total, count, first_at, claimed in held_groups.rows(
        conn
    ):
        if claimed is not None and claimed >= now:
            continue
        whole = count >= total
        if not whole and (claimed is None and first_at >= incomplete_before):
            continue
        key = (account_id, source, destination, ref, total)
        held_claim.run(conn, now + claim_for, *key)
        parts = tuple(_part(r) for r in held_group_parts.rows(conn, *key))
        (complete if whole else incomplete).append(parts)
    return HeldDue(complete, incomplete)


def present(conn: Connection, ids: Sequence[int]) -> set[int]:
    return {int(r[0]) for r in held_present.rows(conn, list(ids))} if ids else set()


def delete(conn: Connection, ids: Sequence[int]) -> None:
    if ids:
        held_delete.run(conn, list(ids))


def refuse(conn: Connection, refused: RefusedMessage) -> bool:
    """Store the message as REJECTD under its parts' ids and queue the receipts its parts
    asked for; False (and nothing written) if its parts were already finished elsewhere."""
    parts = refused.parts
    ids = [p.id for p in parts]
    if present(conn, ids) != set(ids):
        return False
    delete(conn, ids)
    first = parts[0]
    message_id = first.id
    now = refused.now
    refused_message.run(
        conn,
        message_id,
        first.account_id,
        first.source,
        refused.phone,
        refused.text,
        first.data_coding,
        first.total,
        _REJECTD,
        b"",  # never a duplicate of anything: it is in no dedupe log
        now,
        now,
        now,
        refused.error,
    )
    refused_alias.many(conn, ((p.id, message_id) for p in parts[1:]))
    queue_outbox.many(
        conn,
        (
            (first.account_id, message_id, p.id, _REJECTD, refused.error, now)
            for p in parts
            if p.wants_receipt
        ),
    )
    traffic = HourCounts()
    traffic.created(first.account_id, now, _REJECTD)
    traffic.write(conn)  # last (traffic_hours.py says why)
    return True
