"""Accounts and their admin in memory: the AccountAdmin role of MemoryStore, with the SQL
store's errors for the same mistakes (an unknown account, a taken login or token hash).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

from smsgate.store.interface import StoreError
from smsgate.store.memory.state import (
    AccountRow,
    MemoryBase,
)
from smsgate.store.records import (
    AccountRecord,
    AccountSummary,
    Balance,
    Credentials,
    LedgerKind,
    Tariff,
)


class MemoryAccounts(MemoryBase):
    async def create_account(
        self, login: str, *, currency: str = "UAH", rate_limit: float = 9.0, max_binds: int = 4
    ) -> AccountRecord:
        await asyncio.sleep(0)
        if not login:
            raise StoreError("a login must not be empty")
        if any(a.record.login == login for a in self.state.accounts.values()):
            raise StoreError(f"login {login!r} is taken")
        record = AccountRecord(
            next(self.state.account_ids), login, currency, float(rate_limit), max_binds, True
        )
        self.state.accounts[record.id] = AccountRow(record)
        return record

    async def account(self, account_id: int) -> AccountRecord | None:
        await asyncio.sleep(0)
        found = self.state.accounts.get(account_id)
        return None if found is None else found.record

    async def credentials(self, login: str) -> Credentials | None:
        await asyncio.sleep(0)
        for a in self.state.accounts.values():
            if a.record.login == login:
                return Credentials(a.record, a.password_hash, a.smpp_password_hash)
        return None

    async def account_by_token_hash(self, token_hash: str) -> AccountRecord | None:
        await asyncio.sleep(0)
        for a in self.state.accounts.values():
            if a.token_hash == token_hash:
                return a.record
        return None

    async def set_token_hash(self, account_id: int, token_hash: str) -> None:
        await asyncio.sleep(0)
        account = self._account(account_id)
        if any(
            a.token_hash == token_hash and a is not account for a in self.state.accounts.values()
        ):
            raise StoreError("the token hash is taken")  # a unique column in SQL
        account.token_hash = token_hash

    async def set_password_hash(self, account_id: int, password_hash: str) -> None:
        await asyncio.sleep(0)
        self._account(account_id).password_hash = password_hash

    async def set_smpp_password_hash(self, account_id: int, password_hash: str) -> None:
        await asyncio.sleep(0)
        self._account(account_id).smpp_password_hash = password_hash

    async def set_active(self, account_id: int, active: bool) -> None:
        await asyncio.sleep(0)
        account = self._account(account_id)
        account.record = dataclasses.replace(account.record, active=active)

    async def set_admin(self, account_id: int, admin: bool) -> None:
        await asyncio.sleep(0)
        account = self._account(account_id)
        account.record = dataclasses.replace(account.record, admin=admin)

    async def set_rate_limit(self, account_id: int, rate_limit: float) -> None:
        await asyncio.sleep(0)
        if rate_limit < 0:
            raise StoreError("a rate limit must not be negative")
        account = self._account(account_id)
        account.record = dataclasses.replace(account.record, rate_limit=float(rate_limit))

    async def list_accounts(self) -> list[AccountSummary]:
        await asyncio.sleep(0)
        return [
            AccountSummary(
                account=a.record,
                balance=a.money(),
                has_token=a.token_hash is not None,
                has_smpp_password=a.smpp_password_hash is not None,
                senders=tuple(sorted(self.state.originators.get(i, ()))),
            )
            for i, a in sorted(self.state.accounts.items())
        ]

    async def top_up(self, account_id: int, amount: int) -> Balance:
        await asyncio.sleep(0)
        account = self._account(account_id)
        if account.balance + amount < 0:
            raise StoreError("a top-up must not make the balance negative")
        account.balance += amount
        kind = LedgerKind.TOP_UP if amount > 0 else LedgerKind.ADJUSTMENT
        self._ledger_line(account_id, kind, amount, time.time(), None)
        return account.money()

    async def balance(self, account_id: int) -> Balance:
        await asyncio.sleep(0)
        return self._account(account_id).money()

    async def add_originator(self, account_id: int, name: str) -> None:
        await asyncio.sleep(0)
        self._account(account_id)
        self.state.originators[account_id].add(name)

    async def remove_originator(self, account_id: int, name: str) -> bool:
        await asyncio.sleep(0)
        names = self.state.originators.get(account_id, set())
        if name not in names:
            return False
        names.discard(name)
        return True

    async def originators(self, account_id: int) -> list[str]:
        await asyncio.sleep(0)
        return sorted(self.state.originators.get(account_id, ()))

    async def set_tariff(self, tariff: Tariff) -> None:
        await asyncio.sleep(0)
        if tariff.price < 0:
            raise StoreError("a price must not be negative")
        if not tariff.prefix.isdigit() and tariff.prefix != "":
            raise StoreError(f"a tariff prefix is digits, not {tariff.prefix!r}")
        if tariff.account_id is not None:
            self._account(tariff.account_id)
        self.state.tariffs[(tariff.account_id, tariff.prefix)] = tariff.price

    async def remove_tariff(self, account_id: int | None, prefix: str) -> bool:
        await asyncio.sleep(0)
        return self.state.tariffs.pop((account_id, prefix), None) is not None

    async def tariffs(self, account_id: int) -> list[Tariff]:
        await asyncio.sleep(0)
        found = [
            Tariff(owner, prefix, price)
            for (owner, prefix), price in self.state.tariffs.items()
            if owner in (account_id, None)
        ]
        return sorted(found, key=lambda t: (t.account_id is None, t.prefix))
