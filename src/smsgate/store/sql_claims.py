"""The dispatcher's claims on the SQL store: due parts claimed for a node, requeued, failed,
expired and released. The claim is plain driver SQL (statements.py), the rest Core; every
change of a part goes through progress.save_parts, so money and status rules stay there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, literal_column, or_, select, update

from smsgate.domain.status import PartState
from smsgate.store.progress import load_parts, load_parts_by_id, save_parts
from smsgate.store.records import ClaimedPart, SubmitFailed
from smsgate.store.schema import messages, parts
from smsgate.store.sql_base import CLAIMS_PER_ROW, SqlBase
from smsgate.store.statements import (
    claim,
    due_parts,
    earliest_expiry_of,
    earliest_queued_expiry,
)

# Literal (not bound) so that SQLite and PostgreSQL can use the partial indexes on state.
IS_QUEUED = parts.c.state == literal_column(str(int(PartState.QUEUED)))
_IS_SENDING = parts.c.state == literal_column(str(int(PartState.SENDING)))


class SqlClaims(SqlBase):
    """The Claims role (store/roles.py) of SqlStore."""

    async def claim_parts(
        self, node_id: int, now: float, limit: int, claim_ttl: float
    ) -> list[ClaimedPart]:
        if limit <= 0:
            return []

        def work(conn: Connection) -> list[Any]:
            due = due_parts.rows(conn, float(now), float(now), limit)
            if due:
                claim.run(conn, node_id, float(now + claim_ttl), [row[0] for row in due])
            return due

        due = await self._write(work, rows=limit // CLAIMS_PER_ROW)
        # By position, in due_parts' column order: plain driver rows carry no names, and a
        # named Row per part is the per-row cost plain_sql exists to avoid.
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
            earliest: float | None = earliest_expiry_of.rows(conn, ids)[0][0]
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
            save_parts(conn, found.values(), max(f.at for f in failures)).write(conn)

        await self._write(work)

    async def expire(self, now: float) -> int:
        # Start from the queued parts (indexed by state), not from every message ever stored;
        # and not even that while the floor says no queued part can have lapsed yet: with a
        # backlog of 100,000 parts the scan took half a second of the writer every second.
        lapsed = IS_QUEUED & (messages.c.expires_at <= now)

        def work(conn: Connection) -> tuple[int, float | None]:
            found = load_parts(conn, lapsed)
            for p in found.values():
                p.report(PartState.EXPIRED, 0, now)
            traffic = save_parts(conn, found.values(), now)
            earliest: float | None = earliest_queued_expiry.rows(conn)[0][0]
            traffic.write(conn)  # last (traffic_hours.py says why)
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

    async def queue_depth(self) -> int:
        async with self._read() as conn:
            count = await conn.scalar(select(func.count()).select_from(parts).where(IS_QUEUED))
        return int(count or 0)

    async def awaiting_receipts(self) -> dict[str, int]:
        # The state as a literal: the count walks the partial index of submitted parts.
        is_submitted = parts.c.state == literal_column(str(int(PartState.SUBMITTED)))
        query = (
            select(parts.c.connector, func.count()).where(is_submitted).group_by(parts.c.connector)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return {str(connector or ""): int(n) for connector, n in rows}
