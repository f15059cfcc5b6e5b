"""Receipt matching on the SQL store: the operator's answers and receipts move submitted parts
forward in one write, and a receipt that comes before its part's answer is kept (unmatched)
until the answer is recorded. Hot path: plain driver SQL only (statements.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, literal_column, select

from smsgate.domain.status import PartState
from smsgate.store.progress import (
    LivePart,
    announce_submitted,
    load_parts,
    load_parts_by_id,
    load_parts_by_operator,
    save_parts,
)
from smsgate.store.records import OperatorReceipt, SubmitDone, Unreceipted
from smsgate.store.schema import messages, parts, unmatched_receipts
from smsgate.store.sql_base import SqlBase
from smsgate.store.statements import (
    early_receipts,
    forget_receipts,
    keep_receipts,
    lock_receipt_matching,
)

# Literal (not bound) so that SQLite and PostgreSQL can use the partial index on state.
_IS_SUBMITTED = parts.c.state == literal_column(str(int(PartState.SUBMITTED)))


class SqlReceipts(SqlBase):
    """The Receipts role (store/roles.py) of SqlStore."""

    async def submitted(self, done: Sequence[SubmitDone]) -> None:
        await self.apply_receipts((), done)

    async def unreceipted(
        self, connector: str, submitted_after: float, submitted_before: float, limit: int
    ) -> list[Unreceipted]:
        return await self._unreceipted(
            limit,
            (parts.c.submitted_at, parts.c.id),
            parts.c.connector == connector,
            parts.c.submitted_at > submitted_after,
            parts.c.submitted_at <= submitted_before,
        )

    async def unreceipted_ended(
        self, connector: str, ended_before: float, limit: int
    ) -> list[Unreceipted]:
        return await self._unreceipted(
            limit,
            (messages.c.expires_at, parts.c.id),
            parts.c.connector == connector,
            messages.c.expires_at < ended_before,
        )

    async def _unreceipted(
        self,
        limit: int,
        order: tuple[ColumnElement[Any], ...],
        *where: ColumnElement[bool],
    ) -> list[Unreceipted]:
        """Submitted parts still without a receipt (and with an operator id to ask about)."""
        if limit <= 0:
            return []
        query = (
            select(parts.c.id, parts.c.operator_id, messages.c.sender, parts.c.submitted_at)
            .join_from(parts, messages, parts.c.message_id == messages.c.id)
            .where(_IS_SUBMITTED, *where)
            .order_by(*order)
            .limit(limit)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return [Unreceipted(r[0], r[1], r[2], r[3]) for r in rows if r[1] is not None]

    async def forget_unmatched(self, received_before: float) -> int:
        old = delete(unmatched_receipts).where(unmatched_receipts.c.received_at < received_before)

        def work(conn: Connection) -> int:
            return int(conn.execute(old).rowcount or 0)

        return await self._write(work)

    async def expire_unreceipted(self, lapsed_before: float, now: float) -> int:
        # From the submitted parts (a partial index keeps them few), not from every message.
        lapsed = _IS_SUBMITTED & (messages.c.expires_at < lapsed_before)

        def work(conn: Connection) -> int:
            found = load_parts(conn, lapsed)
            for p in found.values():
                p.report(PartState.EXPIRED, 0, now)
            save_parts(conn, found.values(), now).write(conn)
            return len(found)

        return await self._write(work)

    @staticmethod
    def _match_early_receipts(conn: Connection, touched: dict[int, LivePart]) -> None:
        by_operator = {(p.connector, p.operator_id): p for p in touched.values()}
        connectors = sorted({c for c, _ in by_operator if c is not None})
        operator_ids = sorted({o for _, o in by_operator if o is not None})
        if not connectors or not operator_ids:
            return
        matched = []
        for rid, connector, operator_id, state, error, received_at in early_receipts.rows(
            conn, connectors, operator_ids
        ):
            p = by_operator.get((connector, operator_id))
            if p is None:
                continue
            p.report(PartState(state), error, received_at)
            matched.append(rid)
        if matched:
            forget_receipts.run(conn, matched)

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
            answered_ids = set(touched)
            early = self._apply_receipts(conn, receipts, touched)
            keep_receipts.many(conn, early)
            if touched:
                at = max([r.at for r in receipts] + [d.at for d in answers])
                answered = [p for p in touched.values() if p.id in answered_ids]
                traffic = save_parts(conn, touched.values(), at)
                if answered:
                    announce_submitted(conn, answered, at)
                traffic.write(conn)  # last (traffic_hours.py says why)

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


def _serialise_receipt_matching(conn: Connection, connectors: set[str]) -> None:
    """A receipt stored as unmatched while its part's submit is being recorded in another
    transaction would be matched by neither: each misses the other's uncommitted row. SQLite's
    single writer already runs them one at a time; on PostgreSQL both take a per-connector
    advisory lock (in sorted order, so two transactions never deadlock on them)."""
    if conn.dialect.name != "postgresql":
        return
    for connector in sorted(connectors):
        lock_receipt_matching.rows(conn, f"receipts:{connector}")
