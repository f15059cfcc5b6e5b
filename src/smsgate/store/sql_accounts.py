"""Accounts and their admin, on SQLAlchemy Core: logins and secrets' hashes, money top-ups,
sender names and tariffs. Cold paths (an admin command, a cache miss), so Core's per-call cost
does not matter here; must not be used for anything on the hot path.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, delete, or_, select, update

from smsgate.store.interface import StoreError
from smsgate.store.records import (
    AccountRecord,
    AccountSummary,
    Balance,
    Credentials,
    LedgerKind,
    Tariff,
)
from smsgate.store.schema import accounts, ledger_entries, originators, tariffs
from smsgate.store.sql_base import SqlBase
from smsgate.store.upsert import insert_for

_ACCOUNT_COLUMNS = (
    accounts.c.id,
    accounts.c.login,
    accounts.c.currency,
    accounts.c.rate_limit,
    accounts.c.max_binds,
    accounts.c.active,
    accounts.c.admin,
)


def _account(row: Any) -> AccountRecord:
    return AccountRecord(
        id=row.id,
        login=row.login,
        currency=row.currency,
        rate_limit=row.rate_limit,
        max_binds=row.max_binds,
        active=bool(row.active),
        admin=bool(row.admin),
    )


class SqlAccounts(SqlBase):
    """The AccountAdmin role (store/roles.py) of SqlStore."""

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

    async def set_admin(self, account_id: int, admin: bool) -> None:
        await self._set(account_id, admin=admin)

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
        """Add money (or take it back with a negative amount, never below zero), with its
        ledger line in the same transaction."""

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
            kind = LedgerKind.TOP_UP if amount > 0 else LedgerKind.ADJUSTMENT
            conn.execute(
                ledger_entries.insert().values(
                    account_id=account_id, kind=kind.value, amount=amount, at=time.time()
                )
            )
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
