"""SqlStore: every role of the store (roles.py) on SQLAlchemy Core, one implementation for
SQLite (embedded, WAL) and PostgreSQL (many nodes), composed of one class per role: accounts and
admin (sql_accounts), claims (sql_claims), receipt matching (sql_receipts), Idempotency-Keys
(sql_idempotency), and here accepts, message reads, held parts, the outbox and leases. Accepts
are group-committed by one writer task; every other write is one transaction per call.

The rules live beside it (accepting, progress, held_parts, dedupe_log, domain/ratelimit); the
plain-SQL statements in statements.py. These classes only open transactions, run queries and
turn driver errors a caller caused into StoreError.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Select, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from smsgate.batching import BatchQueue
from smsgate.domain.status import PartState, Status
from smsgate.store import events, held_parts
from smsgate.store.accepting import accept_batch
from smsgate.store.hot_reads import fetch, read_outbox_accounts, read_outbox_pending, read_statuses
from smsgate.store.interface import Store, StoreError
from smsgate.store.message_search import line, search_query
from smsgate.store.progress import load_parts, save_parts
from smsgate.store.rate_buckets import TokenTake, take_tokens
from smsgate.store.records import (
    RECEIPTS,
    AcceptRequest,
    AcceptResult,
    AccountEvent,
    HeldDue,
    HeldPart,
    HoldResult,
    MessageFilter,
    MessageLine,
    MessageView,
    NewOutboxItem,
    OutboxAttempt,
    OutboxItem,
    PartView,
    RateLimit,
    RefusedMessage,
)
from smsgate.store.schema import held_parts as held_table
from smsgate.store.schema import leases, message_aliases, messages, outbox, parts
from smsgate.store.sql_accounts import SqlAccounts
from smsgate.store.sql_base import brief, outbox_row
from smsgate.store.sql_claims import SqlClaims
from smsgate.store.sql_idempotency import SqlIdempotencyKeys
from smsgate.store.sql_inbound import SqlInbound
from smsgate.store.sql_ledger import SqlLedger
from smsgate.store.sql_login_failures import SqlLoginFailures
from smsgate.store.sql_receipts import SqlReceipts
from smsgate.store.sql_retention import SqlRetention
from smsgate.store.sql_webhooks import SqlWebhooks
from smsgate.store.statements import (
    attempts_of,
    events_after,
    live_leases,
    log_attempts,
    outbox_dead,
    outbox_delivered,
    outbox_retry,
    queue_outbox_item,
)
from smsgate.store.upsert import upsert


class SqlStore(
    SqlAccounts,
    SqlClaims,
    SqlReceipts,
    SqlRetention,
    SqlIdempotencyKeys,
    SqlLoginFailures,
    SqlInbound,
    SqlWebhooks,
    SqlLedger,
):
    """The store on one database URL, e.g. ``sqlite+aiosqlite:///./var/smsgate.db`` or
    ``postgresql+asyncpg://user@127.0.0.1:5432/db``.

    `synchronous` is SQLite's durability level: NORMAL survives kill -9, FULL also survives
    power loss at about half the write rate.

    `commit_window` is how long an accept that finds the writer idle waits for company. An
    SMPP customer's window of 64 arrives within about a millisecond; 2 ms made each of its
    round trips wait the difference (1 ms: +3.7 % on the SMPP door, HTTP /sms/send no worse;
    bench/RESULTS.md).
    """

    def __init__(
        self,
        url: str,
        *,
        synchronous: str = "NORMAL",
        node_id: int = 0,
        commit_window: float = 0.001,
        max_batch: int = 2_000,
    ) -> None:
        super().__init__(url, synchronous=synchronous, node_id=node_id)
        self._writer: BatchQueue[AcceptRequest, AcceptResult] = BatchQueue(
            self._accept_batch, delay=commit_window, max_weight=max_batch, name="accepts"
        )
        # Requests other than sends (statuses, balances, queries): the tokens asked for in one
        # loop turn are spent in one transaction.
        self._tokens: BatchQueue[TokenTake, float | None] = BatchQueue(
            self._token_batch, max_weight=max_batch, name="tokens"
        )

    async def close(self) -> None:
        await self._tokens.close()
        await self._writer.close()
        await super().close()

    # -- the hot path ------------------------------------------------------------------------
    async def accept(self, request: AcceptRequest) -> AcceptResult:
        self.engines  # noqa: B018 - fail fast with StoreError when not open
        result = await self._writer.add(request, len(request.messages))
        self._lower_expiry([request])  # committed: the sweep must know when these can lapse
        return result

    async def accept_many(
        self, requests: Sequence[AcceptRequest]
    ) -> list[AcceptResult | BaseException]:
        self.engines  # noqa: B018 - fail fast with StoreError when not open
        futures = [self._writer.add(r, len(r.messages)) for r in requests]
        results = await asyncio.gather(*futures, return_exceptions=True)
        # Lowered for a request that failed too: the floor only has to be low enough.
        self._lower_expiry(requests)
        return results

    def _lower_expiry(self, requests: Sequence[AcceptRequest]) -> None:
        lapse = [m.expires_at for r in requests for m in r.messages]
        if lapse:
            self._expiry.lower(min(lapse))

    async def _accept_batch(
        self, requests: Sequence[AcceptRequest]
    ) -> list[AcceptResult | BaseException]:
        try:
            # urgent: clients wait for this commit, background writes can wait for it
            batch = await self.engines.writer.run(
                lambda conn: accept_batch(conn, requests, self._dedupe),
                urgent=True,
                committed=lambda done: self._dedupe.committed(done.appended),
                brief=brief(sum(len(r.messages) for r in requests)),
            )
            return list(batch.results)
        except IntegrityError as exc:
            # A caller's id collides with a stored one (or another's in this batch): the
            # batch is rolled back and retried one request at a time, so only it fails.
            if len(requests) == 1:
                return [StoreError(f"cannot store the request: {exc.orig}")]
            results: list[AcceptResult | BaseException] = []
            for request in requests:
                results.extend(await self._accept_batch([request]))
            return results

    async def take_token(self, account_id: int, now: float, limit: RateLimit) -> float | None:
        self.engines  # noqa: B018 - fail fast with StoreError when not open
        return await self._tokens.add((account_id, now, limit))

    async def _token_batch(self, takes: list[TokenTake]) -> list[float | BaseException | None]:
        # urgent and brief: a client waits, and an idle writer runs it on the loop's thread.
        answers = await self.engines.writer.run(
            lambda conn: take_tokens(conn, takes), urgent=True, brief=True
        )
        return list(answers)

    async def statuses(self, account_id: int, ids: Sequence[int]) -> dict[int, Status]:
        return await read_statuses(self.engines, account_id, ids)

    async def search_messages(
        self, account_id: int, where: MessageFilter, limit: int
    ) -> list[MessageLine]:
        async with self._read() as conn:
            rows = (await conn.execute(search_query(account_id, where, limit))).all()
        return [line(row) for row in rows]

    async def message(self, account_id: int, message_id: int) -> MessageView | None:
        real_id = (
            select(message_aliases.c.message_id)
            .where(message_aliases.c.alias_id == message_id)
            .scalar_subquery()
        )
        query = select(
            messages.c.id,
            messages.c.account_id,
            messages.c.status,
            messages.c.phone,
            messages.c.sender,
            messages.c.created_at,
            messages.c.done_at,
            messages.c.error,
            messages.c.client_ref,
        ).where(
            messages.c.account_id == account_id,
            or_(messages.c.id == message_id, messages.c.id == real_id),
        )
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
            if row is None:
                # A part of a long message held for its others; read again after it, for a
                # message made whole (and its held rows dropped) between the two reads.
                held = (await conn.execute(_held_view(account_id, message_id))).first()
                if held is not None:
                    return MessageView(
                        held.id,
                        held.account_id,
                        Status.ENROUTE,
                        held.destination,
                        held.source,
                        held.received_at,
                        None,
                        0,
                    )
                row = (await conn.execute(query)).first()
        if row is None:
            return None
        return MessageView(
            id=row.id,
            account_id=row.account_id,
            status=Status(row.status),
            phone=row.phone,
            sender=row.sender,
            created_at=row.created_at,
            done_at=row.done_at,
            error=row.error,
            client_ref=row.client_ref,
        )

    async def message_parts(self, account_id: int, message_id: int) -> list[PartView]:
        real_id = (
            select(message_aliases.c.message_id)
            .where(message_aliases.c.alias_id == message_id)
            .scalar_subquery()
        )
        owned = select(messages.c.id).where(
            messages.c.account_id == account_id,
            or_(messages.c.id == message_id, messages.c.id == real_id),
        )
        query = (
            select(
                parts.c.id,
                parts.c.seq,
                parts.c.total,
                parts.c.state,
                messages.c.price_per_part,
                parts.c.connector,
                parts.c.operator_id,
                parts.c.submitted_at,
                parts.c.done_at,
                parts.c.error,
            )
            .join(messages, messages.c.id == parts.c.message_id)
            .where(parts.c.message_id.in_(owned))
            .order_by(parts.c.seq)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            PartView(
                r.id,
                r.seq,
                r.total,
                PartState(r.state),
                r.price_per_part,
                r.connector,
                r.operator_id,
                r.submitted_at,
                r.done_at,
                r.error,
            )
            for r in rows
        ]

    async def cancel(self, account_id: int, message_id: int, at: float) -> bool:
        """Cancelled parts end REJECTD with their money refunded."""

        def work(conn: Connection) -> bool:
            owned = conn.scalar(
                select(messages.c.id).where(
                    messages.c.id == message_id, messages.c.account_id == account_id
                )
            )
            if owned is None:
                return False
            found = load_parts(conn, parts.c.message_id == message_id)
            if not found or any(p.state != PartState.QUEUED for p in found.values()):
                return False
            for p in found.values():
                p.report(PartState.REJECTD, 0, at)
            save_parts(conn, found.values(), at, events.CANCELLED).write(conn)
            return True

        return await self._write(work)

    # -- long SMPP messages sent part by part --------------------------------------------------
    async def hold_part(
        self, part: HeldPart, now: float, claim_for: float, rate_limit: RateLimit | None = None
    ) -> HoldResult:
        return await self._write(
            lambda conn: held_parts.hold(conn, part, now, claim_for, rate_limit), urgent=True
        )

    async def held_due(self, now: float, incomplete_before: float, claim_for: float) -> HeldDue:
        return await self._write(
            lambda conn: held_parts.due(conn, now, incomplete_before, claim_for)
        )

    async def refuse_held(self, refused: RefusedMessage) -> bool:
        return await self._write(lambda conn: held_parts.refuse(conn, refused))

    async def outbox_pending(
        self, account_id: int, limit: int, *, kind: str = RECEIPTS, after: int = 0
    ) -> list[OutboxItem]:
        return await read_outbox_pending(self.engines, kind, account_id, limit, time.time(), after)

    async def outbox_done(self, item_ids: Sequence[int]) -> None:
        if not item_ids:
            return

        def work(conn: Connection) -> None:
            outbox_delivered.run(conn, time.time(), sorted(set(item_ids)))

        await self._write(work, rows=len(item_ids))

    async def outbox_accounts(self, *, kind: str = RECEIPTS) -> list[int]:
        return await read_outbox_accounts(self.engines, kind, time.time())

    async def outbox_depth(self) -> dict[str, int]:
        # ix_outbox_pending is (kind, account_id, id) WHERE delivered_at IS NULL: an index count.
        async with self._read() as conn:
            rows = await conn.execute(
                select(outbox.c.kind, func.count())
                .where(outbox.c.delivered_at.is_(None))
                .group_by(outbox.c.kind)
            )
            return {str(kind): int(count) for kind, count in rows}

    async def outbox_add(self, items: Sequence[NewOutboxItem]) -> None:
        if not items:
            return

        def work(conn: Connection) -> None:
            queue_outbox_item.run(conn, [outbox_row(i) for i in items])

        await self._write(work, rows=len(items))

    async def outbox_attempted(self, attempts: Sequence[OutboxAttempt]) -> None:
        if not attempts:
            return

        def work(conn: Connection) -> None:
            log_attempts.run(
                conn, [(a.item_id, a.at, a.status, a.latency, a.error) for a in attempts]
            )
            delivered = sorted({a.item_id for a in attempts if not a.dead and a.retry_at is None})
            if delivered:
                outbox_delivered.run(conn, max(a.at for a in attempts), delivered)
            outbox_retry.many(
                conn,
                (
                    (a.retry_at, a.error, a.item_id)
                    for a in attempts
                    if not a.dead and a.retry_at is not None
                ),
            )
            outbox_dead.many(conn, ((a.at, a.at, a.error, a.item_id) for a in attempts if a.dead))

        await self._write(work, rows=len(attempts))

    async def events(self, account_id: int, after: int, limit: int) -> list[AccountEvent]:
        rows = await fetch(self.engines, events_after, account_id, after, limit)
        return [AccountEvent(*row) for row in rows]

    async def outbox_attempts(self, item_id: int) -> list[OutboxAttempt]:
        return [OutboxAttempt(*row) for row in await fetch(self.engines, attempts_of, item_id)]

    # -- many nodes --------------------------------------------------------------------------
    async def take_lease(self, key: str, holder: str, now: float, ttl: float) -> bool:
        return (await self.take_leases(holder, now, [(key, ttl)]))[0]

    async def take_leases(
        self, holder: str, now: float, takes: Sequence[tuple[str, float]]
    ) -> list[bool]:
        def work(conn: Connection) -> list[bool]:
            # One statement a lease on both engines: the row is inserted, or overwritten only
            # when it is ours or has lapsed; RETURNING says which happened.
            take = upsert(
                conn,
                leases,
                ["key"],
                ["holder", "expires_at"],
                where=or_(leases.c.holder == holder, leases.c.expires_at <= now),
            ).returning(leases.c.holder)
            return [
                conn.execute(take, {"key": key, "holder": holder, "expires_at": now + ttl}).first()
                is not None
                for key, ttl in takes
            ]

        # A few rows: brief, so an idle writer runs them on the caller's thread (a node renews
        # its leases every second, and at rest the hop to the writer's thread was most of it).
        return await self._write(work, rows=len(takes))

    async def release_lease(self, key: str, holder: str) -> None:
        def work(conn: Connection) -> None:
            conn.execute(delete(leases).where(leases.c.key == key, leases.c.holder == holder))

        await self._write(work)

    async def live_leases(self, now: float) -> dict[str, tuple[str, float]]:
        # Every node reads them every second: a hot read, on the caller's thread when it can.
        rows = await fetch(self.engines, live_leases, now)
        return {key: (holder, expires_at) for key, holder, expires_at in rows}


if TYPE_CHECKING:
    _every_role: type[Store] = SqlStore  # mypy: the SQL store implements every role


def _held_view(account_id: int, part_id: int) -> Select[tuple[int, int, str, str, float]]:
    """A held part as MessageView's id, account_id, phone, sender and created_at."""
    h = held_table.c
    return select(h.id, h.account_id, h.destination, h.source, h.received_at).where(
        h.id == part_id, h.account_id == account_id
    )
