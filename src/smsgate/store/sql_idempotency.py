"""Idempotency-Keys in SQL: the IdempotencyKeys role of SqlStore.

A key is taken by one INSERT ... ON CONFLICT DO UPDATE that overwrites only a lapsed row, so
two nodes taking the same key at once cannot both win: PostgreSQL makes the second wait for the
first's commit and then finds the row live; SQLite has one writer.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, select, update

from smsgate.store.records import KeyClaim
from smsgate.store.schema import idempotency_keys
from smsgate.store.sql_base import SqlBase
from smsgate.store.upsert import upsert

_K = idempotency_keys.c


class SqlIdempotencyKeys(SqlBase):
    async def claim_key(
        self, account_id: int, key: str, fingerprint: str, now: float, keep_for: float
    ) -> KeyClaim | None:
        def work(conn: Connection) -> KeyClaim | None:
            take = upsert(
                conn,
                idempotency_keys,
                ["account_id", "key"],
                ["fingerprint", "created_at", "status", "body"],
                where=_K.created_at <= now - keep_for,
            ).returning(_K.key)
            row = {
                "account_id": account_id,
                "key": key,
                "fingerprint": fingerprint,
                "created_at": now,
                "status": None,
                "body": None,
            }
            if conn.execute(take, row).first() is not None:
                return None
            held = conn.execute(
                select(_K.fingerprint, _K.status, _K.body).where(
                    _K.account_id == account_id, _K.key == key
                )
            ).one()
            return KeyClaim(held.fingerprint, held.status, held.body)

        return await self._write(work, urgent=True)

    async def answer_key(self, account_id: int, key: str, status: int, body: bytes) -> None:
        def work(conn: Connection) -> None:
            conn.execute(
                update(idempotency_keys)
                .where(_K.account_id == account_id, _K.key == key)
                .values(status=status, body=body)
            )

        await self._write(work, urgent=True)

    async def release_key(self, account_id: int, key: str) -> None:
        def work(conn: Connection) -> None:
            conn.execute(
                delete(idempotency_keys).where(
                    _K.account_id == account_id, _K.key == key, _K.status.is_(None)
                )
            )

        await self._write(work, urgent=True)
