"""Failed password checks in SQL: the LoginFailures role of SqlStore.

Each failure is one INSERT ... ON CONFLICT DO UPDATE per key that adds one to the count, so two
nodes counting the same key at once both count (PostgreSQL makes the second wait for the first's
row; SQLite has one writer). Stale keys are deleted in the same transaction: the table stays as
small as the guessing of the last `forget_after` seconds, whatever keys a guesser sprays.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, case, delete, select, update

from smsgate.store.records import LoginFailure
from smsgate.store.schema import login_failures
from smsgate.store.sql_base import SqlBase
from smsgate.store.upsert import insert_for

_L = login_failures.c


class SqlLoginFailures(SqlBase):
    async def login_failures(self, keys: Sequence[str]) -> dict[str, LoginFailure]:
        async with self._read() as conn:
            rows = (
                await conn.execute(
                    select(_L.key, _L.count, _L.last_at, _L.locked_until).where(
                        _L.key.in_(list(keys))
                    )
                )
            ).all()
        return {key: LoginFailure(count, last_at, until) for key, count, last_at, until in rows}

    async def count_login_failure(
        self, keys: Sequence[str], now: float, forget_after: float
    ) -> dict[str, LoginFailure]:
        def work(conn: Connection) -> dict[str, LoginFailure]:
            conn.execute(
                delete(login_failures).where(
                    _L.last_at < now - forget_after, _L.locked_until <= now
                )
            )
            counted = {}
            for key in dict.fromkeys(keys):
                stmt = insert_for(conn, login_failures)
                add_one = stmt.on_conflict_do_update(
                    index_elements=["key"],
                    set_={"count": _L.count + 1, "last_at": stmt.excluded.last_at},
                ).returning(_L.count, _L.last_at, _L.locked_until)
                count, last_at, until = conn.execute(
                    add_one, {"key": key, "count": 1, "last_at": now, "locked_until": 0.0}
                ).one()
                counted[key] = LoginFailure(count, last_at, until)
            return counted

        return await self._write(work, urgent=True)

    async def lock_login(self, key: str, until: float) -> None:
        def work(conn: Connection) -> None:
            later = case((_L.locked_until > until, _L.locked_until), else_=until)
            conn.execute(update(login_failures).where(_L.key == key).values(locked_until=later))

        await self._write(work, urgent=True)

    async def forget_login_failures(self, keys: Sequence[str]) -> None:
        def work(conn: Connection) -> None:
            conn.execute(delete(login_failures).where(_L.key.in_(list(keys))))

        await self._write(work, urgent=True)
