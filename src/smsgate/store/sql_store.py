"""SqlStore: the Store interface on SQLAlchemy Core, one implementation for SQLite (embedded,
WAL) and PostgreSQL (many nodes). Accepts are group-committed by one writer task; every other
write is one transaction per call.

The rules themselves live beside it (accepting, progress, token_bucket); this module only opens
transactions, runs queries and turns driver errors a caller caused into StoreError.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    delete,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from smsgate.domain.status import PartState, Status
from smsgate.store import held_parts, migrate
from smsgate.store.accepting import accept_batch
from smsgate.store.dedupe_log import DedupeMemory
from smsgate.store.engine import Engines, create_engines
from smsgate.store.expiry_floor import ExpiryFloor
from smsgate.store.group_commit import GroupCommit
from smsgate.store.hot_reads import read_outbox_accounts, read_outbox_pending, read_statuses
from smsgate.store.interface import StoreError
from smsgate.store.plain_sql import PlainSql
from smsgate.store.progress import (
    LivePart,
    load_parts,
    load_parts_by_id,
    load_parts_by_operator,
    save_parts,
)
from smsgate.store.records import (
    AcceptRequest,
    AcceptResult,
    AccountRecord,
    AccountSummary,
    Balance,
    ClaimedPart,
    Credentials,
    HeldDue,
    HeldPart,
    HoldResult,
    MessageView,
    OperatorReceipt,
    OutboxItem,
    RateLimit,
    RefusedMessage,
    SubmitDone,
    SubmitFailed,
    Tariff,
)
from smsgate.store.schema import (
    accounts,
    leases,
    message_aliases,
    messages,
    originators,
    parts,
    tariffs,
)
from smsgate.store.upsert import insert_for, upsert

T = TypeVar("T")

# Literal (not bound) so that SQLite and PostgreSQL can use the partial indexes on state.
_IS_QUEUED = parts.c.state == literal_column(str(int(PartState.QUEUED)))
_IS_SENDING = parts.c.state == literal_column(str(int(PartState.SENDING)))

# The dispatcher's hot statements, as plain driver SQL (see plain_sql). The claim reads the due
# parts with everything submit_sm needs, then marks exactly those: on PostgreSQL concurrent
# claimers skip each other's locked rows; on SQLite BEGIN IMMEDIATE already serialises them.
_due_parts = PlainSql(
    f"""SELECT p.id, p.message_id, m.account_id, m.sender, m.phone, m.data_coding, p.seq,
        p.total, p.concat_ref, p.payload, p.attempts, m.expires_at
    FROM parts p JOIN messages m ON m.id = p.message_id
    WHERE p.state = {int(PartState.QUEUED)} AND p.due_at <= ? AND m.expires_at > ?
    ORDER BY p.due_at, p.id LIMIT ?""",
    lock="FOR UPDATE OF p SKIP LOCKED",
)
_claim = PlainSql(
    f"UPDATE parts SET state = {int(PartState.SENDING)}, claimed_by = ?, claim_until = ?,"
    f" attempts = attempts + 1 WHERE id = ANY(?) AND state = {int(PartState.QUEUED)}"
)
_early_receipts = PlainSql(
    "SELECT id, connector, operator_id, state, error, received_at FROM unmatched_receipts"
    " WHERE connector = ANY(?) AND operator_id = ANY(?) ORDER BY id",
    lock="FOR UPDATE",
)
_forget_receipts = PlainSql("DELETE FROM unmatched_receipts WHERE id = ANY(?)")
_keep_receipts = PlainSql(
    "INSERT INTO unmatched_receipts (connector, operator_id, state, error, received_at)"
    " VALUES (?, ?, ?, ?, ?)"
)
# What the expiry sweep needs besides the lapsed parts: when the next queued part lapses.
_earliest_queued_expiry = PlainSql(
    "SELECT min(m.expires_at) FROM parts p JOIN messages m ON m.id = p.message_id"
    f" WHERE p.state = {int(PartState.QUEUED)}"
)
_earliest_expiry_of = PlainSql(
    "SELECT min(m.expires_at) FROM parts p JOIN messages m ON m.id = p.message_id"
    " WHERE p.id = ANY(?)"
)
_outbox_delivered = PlainSql(
    "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1"
    " WHERE id = ANY(?) AND delivered_at IS NULL"
)

_ACCOUNT_COLUMNS = (
    accounts.c.id,
    accounts.c.login,
    accounts.c.currency,
    accounts.c.rate_limit,
    accounts.c.max_binds,
    accounts.c.active,
)


# A hot-path write of at most this many rows is brief (Writer.run): ~5 ms of work at most,
# which the SQLite writer may run on the event loop's thread rather than hand to its own. An
# accepted message costs ~27-32 µs and a claimed part ~9.5 µs (bench/store_accept.py; RESULTS,
# "Session 8"): a claim counts a quarter of a row per part, so 512 parts take ~5 ms.
BRIEF_ROWS = 128
_CLAIMS_PER_ROW = 4


def _brief(rows: int | None) -> bool:
    return rows is not None and rows <= BRIEF_ROWS


def _account(row: Any) -> AccountRecord:
    return AccountRecord(
        id=row.id,
        login=row.login,
        currency=row.currency,
        rate_limit=row.rate_limit,
        max_binds=row.max_binds,
        active=bool(row.active),
    )


class SqlStore:
    """The store on one database URL, e.g. ``sqlite+aiosqlite:///./var/smsgate.db`` or
    ``postgresql+asyncpg://user@127.0.0.1:5432/db``.

    `synchronous` is SQLite's durability level: NORMAL survives kill -9, FULL also survives
    power loss at about half the write rate.

    `commit_window` is how long an accept that finds the writer idle waits for company. An
    SMPP customer's window of 64 arrives within about a millisecond; 2 ms made each of its
    round trips wait the difference (1 ms: +3.7 % on the SMPP door over 8 interleaved pairs,
    HTTP /sms/send no worse; bench/RESULTS.md, "Session 6").
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
        self.url = url
        self.node_id = node_id
        self._synchronous = synchronous
        self._engines: Engines | None = None
        self._writer: GroupCommit[AcceptRequest, AcceptResult] = GroupCommit(
            self._accept_batch, window=commit_window, max_weight=max_batch
        )
        self._expiry = ExpiryFloor()
        self._dedupe = DedupeMemory()
        self._sweeping = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        if self._engines is not None:
            return
        engines = create_engines(self.url, synchronous=self._synchronous)
        try:
            await migrate.upgrade(engines.writer)
        except BaseException:
            await engines.dispose()
            raise
        self._engines = engines

    async def close(self) -> None:
        await self._writer.close()
        engines, self._engines = self._engines, None
        if engines is not None:
            await engines.dispose()

    @property
    def engines(self) -> Engines:
        if self._engines is None:
            raise StoreError("the store is not open")
        return self._engines

    async def _write(
        self, work: Callable[[Connection], T], *, urgent: bool = False, rows: int | None = None
    ) -> T:
        """Run `work` in one write transaction; a constraint it trips is the caller's error.
        `urgent`: a customer waits for it (Writer.run). `rows`: the size of a hot-path
        batch, in accepted messages' worth of writer time; a small one is brief (Writer.run)."""
        try:
            return await self.engines.writer.run(work, urgent=urgent, brief=_brief(rows))
        except IntegrityError as exc:
            raise StoreError(str(exc.orig)) from exc

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engines.reader.connect() as conn:
            yield conn

    # -- accounts and admin ------------------------------------------------------------------
    async def create_account(
        self, login: str, *, currency: str = "UAH", rate_limit: float = 9.0, max_binds: int = 4
    ) -> AccountRecord:
        if not login:
            raise StoreError("a login must not be empty")

        def work(conn: Connection) -> AccountRecord:
            exists = conn.scalar(select(accounts.c.id).where(accounts.c.login == login))
            if exists is not None:
                raise StoreError(f"login {login!r} is taken")
            row = (
                conn.execute(
                    accounts.insert()
                    .values(
                        login=login,
                        currency=currency,
                        rate_limit=rate_limit,
                        max_binds=max_binds,
                        active=True,
                        created_at=time.time(),
                    )
                    .returning(*_ACCOUNT_COLUMNS)
                )
            ).one()
            return _account(row)

        return await self._write(work)

    async def account(self, account_id: int) -> AccountRecord | None:
        async with self._read() as conn:
            row = (
                await conn.execute(select(*_ACCOUNT_COLUMNS).where(accounts.c.id == account_id))
            ).first()
        return None if row is None else _account(row)

    async def credentials(self, login: str) -> Credentials | None:
        async with self._read() as conn:
            row = (
                await conn.execute(
                    select(
                        *_ACCOUNT_COLUMNS, accounts.c.password_hash, accounts.c.smpp_password_hash
                    ).where(accounts.c.login == login)
                )
            ).first()
        if row is None:
            return None
        return Credentials(_account(row), row.password_hash, row.smpp_password_hash)

    async def account_by_token_hash(self, token_hash: str) -> AccountRecord | None:
        async with self._read() as conn:
            row = (
                await conn.execute(
                    select(*_ACCOUNT_COLUMNS).where(accounts.c.api_token_hash == token_hash)
                )
            ).first()
        return None if row is None else _account(row)

    async def _set(self, account_id: int, **values: Any) -> None:
        def work(conn: Connection) -> None:
            result = conn.execute(
                update(accounts).where(accounts.c.id == account_id).values(**values)
            )
            if result.rowcount == 0:
                raise StoreError(f"unknown account {account_id}")

        await self._write(work)

    async def set_token_hash(self, account_id: int, token_hash: str) -> None:
        await self._set(account_id, api_token_hash=token_hash)

    async def set_password_hash(self, account_id: int, password_hash: str) -> None:
        await self._set(account_id, password_hash=password_hash)

    async def set_smpp_password_hash(self, account_id: int, password_hash: str) -> None:
        await self._set(account_id, smpp_password_hash=password_hash)

    async def set_active(self, account_id: int, active: bool) -> None:
        await self._set(account_id, active=active)

    async def set_rate_limit(self, account_id: int, rate_limit: float) -> None:
        if rate_limit < 0:
            raise StoreError("a rate limit must not be negative")
        await self._set(account_id, rate_limit=rate_limit)

    async def list_accounts(self) -> list[AccountSummary]:
        async with self._read() as conn:
            rows = (
                await conn.execute(
                    select(
                        *_ACCOUNT_COLUMNS,
                        accounts.c.balance,
                        accounts.c.reserved,
                        accounts.c.charged,
                        accounts.c.api_token_hash,
                        accounts.c.smpp_password_hash,
                    ).order_by(accounts.c.id)
                )
            ).all()
            senders: dict[int, list[str]] = defaultdict(list)
            for o in await conn.execute(
                select(originators.c.account_id, originators.c.name).order_by(
                    originators.c.account_id, originators.c.name
                )
            ):
                senders[o.account_id].append(o.name)
        return [
            AccountSummary(
                account=_account(row),
                balance=Balance(row.currency, row.balance, row.reserved, row.charged),
                has_token=row.api_token_hash is not None,
                has_smpp_password=row.smpp_password_hash is not None,
                senders=tuple(senders[row.id]),
            )
            for row in rows
        ]

    async def top_up(self, account_id: int, amount: int) -> Balance:
        """Add money (or take it back with a negative amount, never below zero)."""

        def work(conn: Connection) -> Balance:
            row = (
                conn.execute(
                    update(accounts)
                    .where(accounts.c.id == account_id, accounts.c.balance + amount >= 0)
                    .values(balance=accounts.c.balance + amount)
                    .returning(
                        accounts.c.currency,
                        accounts.c.balance,
                        accounts.c.reserved,
                        accounts.c.charged,
                    )
                )
            ).first()
            if row is None:
                exists = conn.scalar(select(accounts.c.id).where(accounts.c.id == account_id))
                if exists is None:
                    raise StoreError(f"unknown account {account_id}")
                raise StoreError("a top-up must not make the balance negative")
            return Balance(row.currency, row.balance, row.reserved, row.charged)

        return await self._write(work)

    async def balance(self, account_id: int) -> Balance:
        async with self._read() as conn:
            row = (
                await conn.execute(
                    select(
                        accounts.c.currency,
                        accounts.c.balance,
                        accounts.c.reserved,
                        accounts.c.charged,
                    ).where(accounts.c.id == account_id)
                )
            ).first()
        if row is None:
            raise StoreError(f"unknown account {account_id}")
        return Balance(row.currency, row.balance, row.reserved, row.charged)

    async def add_originator(self, account_id: int, name: str) -> None:
        def work(conn: Connection) -> None:
            if conn.scalar(select(accounts.c.id).where(accounts.c.id == account_id)) is None:
                raise StoreError(f"unknown account {account_id}")
            conn.execute(
                insert_for(conn, originators)
                .values(account_id=account_id, name=name)
                .on_conflict_do_nothing()
            )

        await self._write(work)

    async def remove_originator(self, account_id: int, name: str) -> bool:
        def work(conn: Connection) -> bool:
            result = conn.execute(
                delete(originators).where(
                    originators.c.account_id == account_id, originators.c.name == name
                )
            )
            return bool(result.rowcount)

        return await self._write(work)

    async def originators(self, account_id: int) -> list[str]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(originators.c.name)
                .where(originators.c.account_id == account_id)
                .order_by(originators.c.name)
            )
            return [r.name for r in rows]

    def _tariff_key(self, account_id: int | None, prefix: str) -> Any:
        owner = (
            tariffs.c.account_id.is_(None)
            if account_id is None
            else (tariffs.c.account_id == account_id)
        )
        return (owner, tariffs.c.prefix == prefix)

    async def set_tariff(self, tariff: Tariff) -> None:
        if tariff.price < 0:
            raise StoreError("a price must not be negative")
        if not tariff.prefix.isdigit() and tariff.prefix != "":
            raise StoreError(f"a tariff prefix is digits, not {tariff.prefix!r}")

        def work(conn: Connection) -> None:
            if tariff.account_id is not None and (
                conn.scalar(select(accounts.c.id).where(accounts.c.id == tariff.account_id)) is None
            ):
                raise StoreError(f"unknown account {tariff.account_id}")
            # Delete + insert rather than ON CONFLICT: the default plan's NULL account is
            # unique only through a partial index, which ON CONFLICT cannot name portably.
            conn.execute(delete(tariffs).where(*self._tariff_key(tariff.account_id, tariff.prefix)))
            conn.execute(
                tariffs.insert().values(
                    account_id=tariff.account_id, prefix=tariff.prefix, price=tariff.price
                )
            )

        await self._write(work)

    async def remove_tariff(self, account_id: int | None, prefix: str) -> bool:
        def work(conn: Connection) -> bool:
            result = conn.execute(delete(tariffs).where(*self._tariff_key(account_id, prefix)))
            return bool(result.rowcount)

        return await self._write(work)

    async def tariffs(self, account_id: int) -> list[Tariff]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(tariffs.c.account_id, tariffs.c.prefix, tariffs.c.price)
                .where(or_(tariffs.c.account_id == account_id, tariffs.c.account_id.is_(None)))
                .order_by(tariffs.c.account_id.is_(None), tariffs.c.prefix)
            )
            return [Tariff(r.account_id, r.prefix, r.price) for r in rows]

    # -- the hot path ------------------------------------------------------------------------
    async def accept(self, request: AcceptRequest) -> AcceptResult:
        self.engines  # noqa: B018 - fail fast with StoreError when not open
        result = await self._writer.submit(request, weight=len(request.messages))
        self._lower_expiry([request])  # committed: the sweep must know when these can lapse
        return result

    async def accept_many(
        self, requests: Sequence[AcceptRequest]
    ) -> list[AcceptResult | BaseException]:
        self.engines  # noqa: B018 - fail fast with StoreError when not open
        futures = [self._writer.enqueue(r, weight=len(r.messages)) for r in requests]
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
                brief=_brief(sum(len(r.messages) for r in requests)),
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

    async def statuses(self, account_id: int, ids: Sequence[int]) -> dict[int, Status]:
        return await read_statuses(self.engines.reader, account_id, ids)

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
        ).where(
            messages.c.account_id == account_id,
            or_(messages.c.id == message_id, messages.c.id == real_id),
        )
        async with self._read() as conn:
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
        )

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
            save_parts(conn, found.values(), at)
            return True

        return await self._write(work)

    # -- dispatcher --------------------------------------------------------------------------
    async def claim_parts(
        self, node_id: int, now: float, limit: int, claim_ttl: float
    ) -> list[ClaimedPart]:
        if limit <= 0:
            return []

        def work(conn: Connection) -> list[Any]:
            due = _due_parts.rows(conn, float(now), float(now), limit)
            if due:
                _claim.run(conn, node_id, float(now + claim_ttl), [row[0] for row in due])
            return due

        due = await self._write(work, rows=limit // _CLAIMS_PER_ROW)
        return sorted(
            (
                ClaimedPart(
                    part_id=row[0],
                    message_id=row[1],
                    account_id=row[2],
                    sender=row[3],
                    phone=row[4],
                    data_coding=row[5],
                    seq=row[6],
                    total=row[7],
                    concat_ref=row[8],
                    payload=bytes(row[9]),
                    attempts=row[10] + 1,
                    expires_at=row[11],
                )
                for row in due
            ),
            key=lambda c: c.part_id,
        )

    async def submitted(self, done: Sequence[SubmitDone]) -> None:
        await self.apply_receipts((), done)

    @staticmethod
    def _match_early_receipts(conn: Connection, touched: dict[int, LivePart]) -> None:
        by_operator = {(p.connector, p.operator_id): p for p in touched.values()}
        connectors = sorted({c for c, _ in by_operator if c is not None})
        operator_ids = sorted({o for _, o in by_operator if o is not None})
        if not connectors or not operator_ids:
            return
        matched = []
        for rid, connector, operator_id, state, error, received_at in _early_receipts.rows(
            conn, connectors, operator_ids
        ):
            p = by_operator.get((connector, operator_id))
            if p is None:
                continue
            p.report(PartState(state), error, received_at)
            matched.append(rid)
        if matched:
            _forget_receipts.run(conn, matched)

    async def requeue(self, part_ids: Sequence[int], not_before: float) -> None:
        if not part_ids:
            return

        ids = sorted(set(part_ids))

        def work(conn: Connection) -> float | None:
            conn.execute(
                update(parts)
                .where(parts.c.id.in_(ids), _IS_SENDING)
                .values(
                    state=int(PartState.QUEUED),
                    due_at=not_before,
                    claimed_by=None,
                    claim_until=None,
                )
            )
            earliest: float | None = _earliest_expiry_of.rows(conn, ids)[0][0]
            return earliest

        earliest = await self._write(work)
        if earliest is not None:
            self._expiry.lower(earliest)

    async def failed(self, failures: Sequence[SubmitFailed]) -> None:
        if not failures:
            return

        def work(conn: Connection) -> None:
            found = load_parts_by_id(conn, [f.part_id for f in failures])
            for f in failures:
                p = found.get(f.part_id)
                if p is not None:
                    p.report(f.state, f.error, f.at)
            save_parts(conn, found.values(), max(f.at for f in failures))

        await self._write(work)

    async def expire(self, now: float) -> int:
        # Start from the queued parts (indexed by state), not from every message ever stored;
        # and not even that while the floor says no queued part can have lapsed yet: with a
        # backlog of 100,000 parts the scan took half a second of the writer every second.
        lapsed = _IS_QUEUED & (messages.c.expires_at <= now)

        def work(conn: Connection) -> tuple[int, float | None]:
            found = load_parts(conn, lapsed)
            for p in found.values():
                p.report(PartState.EXPIRED, 0, now)
            save_parts(conn, found.values(), now)
            earliest: float | None = _earliest_queued_expiry.rows(conn)[0][0]
            return len(found), earliest

        async with self._sweeping:
            if not self._expiry.sweep_needed(now):
                return 0
            self._expiry.begin()
            count, earliest = await self._write(work)
            self._expiry.finish(now, earliest)
        return count

    async def release_claims(self, now: float, node_id: int | None = None) -> int:
        """Lapsed claims of any node go back to the queue; with node_id, also every claim of
        that node (it is restarting, so nothing it claimed is in flight any more)."""
        lapsed = parts.c.claim_until < now
        if node_id is not None:
            lapsed = or_(lapsed, parts.c.claimed_by == node_id)

        def work(conn: Connection) -> int:
            result = conn.execute(
                update(parts)
                .where(_IS_SENDING, lapsed)
                .values(state=int(PartState.QUEUED), claimed_by=None, claim_until=None)
            )
            return int(result.rowcount)

        released = await self._write(work)
        if released:
            self._expiry.forget()  # back in the queue, lifetimes not looked up
        return released

    # -- receipts and outbox -----------------------------------------------------------------
    async def apply_receipts(
        self, receipts: Sequence[OperatorReceipt], answers: Sequence[SubmitDone] = ()
    ) -> None:
        if not receipts and not answers:
            return

        def work(conn: Connection) -> None:
            _serialise_receipt_matching(
                conn, {r.connector for r in receipts} | {d.connector for d in answers}
            )
            touched = self._record_answers(conn, answers)
            early = self._apply_receipts(conn, receipts, touched)
            _keep_receipts.many(conn, early)
            if touched:
                at = max([r.at for r in receipts] + [d.at for d in answers])
                save_parts(conn, touched.values(), at)

        await self._write(work, rows=len(receipts) + len(answers))

    @classmethod
    def _record_answers(
        cls, conn: Connection, answers: Sequence[SubmitDone]
    ) -> dict[int, LivePart]:
        """The parts the operator accepted, with their operator ids, and with any receipt
        that came before this (kept as unmatched) applied."""
        found = load_parts_by_id(conn, [d.part_id for d in answers])
        touched: dict[int, LivePart] = {}
        for d in answers:
            p = found.get(d.part_id)
            if p is None:
                continue
            p.connector, p.operator_id = d.connector, d.operator_id
            p.submitted_at = d.at
            p.report(PartState.SUBMITTED, 0, d.at)
            if p.state == PartState.SUBMITTED:
                p.claimed_by = p.claim_until = None
            touched[p.id] = p
        if touched:
            cls._match_early_receipts(conn, touched)
        return touched

    @staticmethod
    def _apply_receipts(
        conn: Connection, receipts: Sequence[OperatorReceipt], touched: dict[int, LivePart]
    ) -> list[tuple[str, str, int, int, float]]:
        """Apply receipts to their parts (those in `touched` first, as this transaction left
        them), adding the parts to `touched`; the rows of those whose part is not known yet."""
        by_operator = {(p.connector, p.operator_id): p for p in touched.values()}
        unknown = [r for r in receipts if (r.connector, r.operator_id) not in by_operator]
        if unknown:
            found = load_parts_by_operator(
                conn, [r.connector for r in unknown], [r.operator_id for r in unknown]
            )
            for stored in found.values():
                # A part this transaction already holds keeps that one copy.
                if stored.id not in touched:
                    by_operator.setdefault((stored.connector, stored.operator_id), stored)
        early: list[tuple[str, str, int, int, float]] = []
        for r in receipts:
            part = by_operator.get((r.connector, r.operator_id))
            if part is None:
                early.append((r.connector, r.operator_id, int(r.state), r.error, r.at))
                continue
            part.report(r.state, r.error, r.at)
            touched[part.id] = part
        return early

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

    async def outbox_pending(self, account_id: int, limit: int) -> list[OutboxItem]:
        return await read_outbox_pending(self.engines.reader, account_id, limit)

    async def outbox_done(self, item_ids: Sequence[int]) -> None:
        if not item_ids:
            return

        def work(conn: Connection) -> None:
            _outbox_delivered.run(conn, time.time(), sorted(set(item_ids)))

        await self._write(work, rows=len(item_ids))

    async def outbox_accounts(self) -> list[int]:
        return await read_outbox_accounts(self.engines.reader)

    # -- many nodes --------------------------------------------------------------------------
    async def take_lease(self, key: str, holder: str, now: float, ttl: float) -> bool:
        # One statement on both engines: the row is inserted, or overwritten only when it is
        # ours or has lapsed; RETURNING says which happened.
        def work(conn: Connection) -> bool:
            take = upsert(
                conn,
                leases,
                ["key"],
                ["holder", "expires_at"],
                where=or_(leases.c.holder == holder, leases.c.expires_at <= now),
            ).returning(leases.c.holder)
            params = {"key": key, "holder": holder, "expires_at": now + ttl}
            return conn.execute(take, params).first() is not None

        return await self._write(work)

    async def release_lease(self, key: str, holder: str) -> None:
        def work(conn: Connection) -> None:
            conn.execute(delete(leases).where(leases.c.key == key, leases.c.holder == holder))

        await self._write(work)

    async def live_leases(self, now: float) -> dict[str, tuple[str, float]]:
        async with self._read() as conn:
            rows = await conn.execute(select(leases).where(leases.c.expires_at > now))
            return {r.key: (r.holder, r.expires_at) for r in rows}

    async def queue_depth(self) -> int:
        async with self._read() as conn:
            count = await conn.scalar(select(func.count()).select_from(parts).where(_IS_QUEUED))
        return int(count or 0)


def _serialise_receipt_matching(conn: Connection, connectors: set[str]) -> None:
    """A receipt stored as unmatched while its part's submit is being recorded in another
    transaction would be matched by neither: each misses the other's uncommitted row. SQLite's
    single writer already runs them one at a time; on PostgreSQL both take a per-connector
    advisory lock (in sorted order, so two transactions never deadlock on them)."""
    if conn.dialect.name != "postgresql":
        return
    for connector in sorted(connectors):
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"receipts:{connector}"}
        )
