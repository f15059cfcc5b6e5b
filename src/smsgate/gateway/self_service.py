"""What an account may change about itself, and what an operator may change about any: a
new API token (shown once, stored as its hash), money added, the account list.

A service over the AccountAdmin role for the dashboard (the admin CLI has its own commands);
it never decides who may call it: the caller checks the session's account and its role.
"""

from __future__ import annotations

from typing import Protocol

from smsgate.gateway.accounts import AccountCache
from smsgate.gateway.credentials import hash_token, new_token
from smsgate.store.records import AccountRecord, AccountSummary, Balance
from smsgate.store.roles import AccountAdmin


class SelfServiceStore(AccountAdmin, Protocol):
    async def queue_depth(self) -> int:
        """Parts waiting to be sent (the Claims role's count)."""


class SelfService:
    def __init__(self, store: SelfServiceStore, accounts: AccountCache) -> None:
        self._store = store
        self._accounts = accounts

    async def rotate_token(self, account: AccountRecord) -> str:
        """A fresh API token for the account; the old one stops working (on other nodes
        within their account cache's lifetime). The plain token exists only in the answer."""
        token = new_token()
        await self._store.set_token_hash(account.id, hash_token(token))
        self._accounts.forget()
        return token

    async def accounts(self) -> list[AccountSummary]:
        return await self._store.list_accounts()

    async def top_up(self, account_id: int, amount: int) -> Balance:
        return await self._store.top_up(account_id, amount)

    async def queue_depth(self) -> int:
        return await self._store.queue_depth()
