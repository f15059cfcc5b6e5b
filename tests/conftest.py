"""Shared fixtures: a real gateway stack (SQLite store in a temp dir, the services, the ASGI app)
and accounts on it. No fakes: door tests run against the real submit path.

The stack's modules are imported inside the fixtures, so a test of one room does not need every
other room to import.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from smsgate.gateway.facade import Gateway
    from smsgate.store.records import AccountRecord
    from smsgate.store.sql_store import SqlStore

PRICE = 5_000  # 0.5000 per part


@functools.cache
def hash_password(password: str) -> str:
    """scrypt is slow by design; tests reuse one hash per password."""
    from smsgate.gateway.credentials import hash_password as slow_hash

    return slow_hash(password)


@dataclass
class TestAccount:
    record: AccountRecord
    login: str
    token: str
    password: str
    smpp_password: str
    sender: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Stack:
    store: SqlStore
    gateway: Gateway
    client: httpx.AsyncClient
    app: object

    async def account(
        self,
        login: str,
        *,
        balance: int = 1000 * 10_000,
        rate_limit: float = 0,
        sender: str = "Shop",
    ) -> TestAccount:
        from smsgate.gateway.credentials import hash_token

        record = await self.store.create_account(login, rate_limit=rate_limit)
        token = f"token-{login}"
        password = f"pw-{login}"
        smpp_password = f"s{login}"[:8]
        await self.store.set_token_hash(record.id, hash_token(token))
        await self.store.set_password_hash(record.id, hash_password(password))
        await self.store.set_smpp_password_hash(record.id, hash_password(smpp_password))
        if balance:
            await self.store.top_up(record.id, balance)
        await self.store.add_originator(record.id, sender)
        return TestAccount(record, login, token, password, smpp_password, sender)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    from smsgate.store.records import Tariff
    from smsgate.store.sql_store import SqlStore

    s = SqlStore(f"sqlite+aiosqlite:///{tmp_path}/smsgate.db")
    await s.open()
    await s.set_tariff(Tariff(account_id=None, prefix="", price=PRICE))
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def stack(store: SqlStore) -> AsyncIterator[Stack]:
    from smsgate.domain.ids import IdGenerator
    from smsgate.doors.app import build_app
    from smsgate.gateway.accounts import AccountCache
    from smsgate.gateway.facade import Gateway
    from smsgate.gateway.outbox.outbox import Outbox
    from smsgate.gateway.submit import Submitter

    accounts = AccountCache(store, ttl=0.0)
    submitter = Submitter(store, accounts, IdGenerator(1))
    gateway = Gateway(submitter, accounts, store, Outbox(store))

    async def health() -> dict[str, object]:
        return {"ok": True, "connectors": {}}

    app = build_app(gateway, health, max_body=200_000)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://smsgate.test") as client:
        yield Stack(store, gateway, client, app)
