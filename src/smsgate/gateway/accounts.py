"""Account lookups for authentication and sender checks, cached for a few seconds.

A cache entry lives `ttl` seconds, so disabling an account or removing a sender name takes
effect on every node within that time without a query per request. Password checks (scrypt)
are cached by a hash of the presented secret, so the legacy doors that send a password with
every request stay fast. Failed password checks are counted in the store, for every worker
and node at once (login_guard.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

from smsgate.gateway.credentials import hash_token, verify_password
from smsgate.gateway.errors import Unauthorized
from smsgate.gateway.login_guard import LoginGuard
from smsgate.gateway.login_throttle import LoginThrottle
from smsgate.store.records import AccountRecord
from smsgate.store.roles import AccountReads, LoginFailures
from smsgate.ttl_cache import TtlCache

log = logging.getLogger(__name__)


class AccountStore(AccountReads, LoginFailures, Protocol):
    """What the cache reads, and where failed password checks are counted for every node."""


class AccountCache:
    def __init__(
        self,
        store: AccountStore,
        *,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.time,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self._store = store
        self.guard = LoginGuard(throttle if throttle is not None else LoginThrottle(), store)
        self._tokens: TtlCache[str, AccountRecord | None] = TtlCache(ttl, clock)
        self._passwords: TtlCache[tuple[str, str, str], AccountRecord | None] = TtlCache(
            ttl * 12, clock
        )
        self._senders: TtlCache[int, frozenset[str]] = TtlCache(ttl, clock)
        self._sender_order: dict[int, list[str]] = {}

    async def by_token(self, token: str) -> AccountRecord:
        token = token.strip()
        if not token:
            raise Unauthorized()
        # Keyed by the token as presented, so a hit needs no SHA-256; the store is only ever
        # asked by the hash. The entry lives `ttl` seconds either way, so a rotated token or a
        # disabled account stops working as soon as it did when the key was the hash.
        hit = self._tokens.peek(token)
        if hit is not None:
            return _active(hit.value)
        account = await self._tokens.get(
            token, lambda: self._store.account_by_token_hash(hash_token(token))
        )
        return _active(account)

    @property
    def throttle(self) -> LoginThrottle:
        """This process's password-guessing throttle (login_throttle.py)."""
        return self.guard.throttle

    @throttle.setter
    def throttle(self, throttle: LoginThrottle) -> None:
        self.guard.throttle = throttle

    async def by_password(
        self, login: str, password: str, address: str | None = None
    ) -> AccountRecord:
        return await self._by_secret("http", login, password, address)

    async def by_smpp_password(
        self, login: str, password: str, address: str | None = None
    ) -> AccountRecord:
        return await self._by_secret("smpp", login, password, address)

    async def _by_secret(
        self, kind: str, login: str, password: str, address: str | None
    ) -> AccountRecord:
        """`address` is the client's, for the password-guessing throttle (login_throttle.py):
        a locked address is refused without a check, answered as a wrong password."""
        if not login or not password:
            raise Unauthorized()
        guard = self.guard
        if guard.refuses(login, address):
            raise Unauthorized()
        presented = hashlib.sha256(password.encode("utf-8", "surrogatepass")).hexdigest()
        key = (kind, login, presented)
        # Only a password about to be really checked asks the store for another process's
        # lock: a cached one costs the request nothing more.
        checked = self._passwords.peek(key) is None
        if checked and await guard.refused_elsewhere(login, address):
            raise Unauthorized()

        async def load() -> AccountRecord | None:
            creds = await self._store.credentials(login)
            if creds is None:
                return None
            stored = creds.password_hash if kind == "http" else creds.smpp_password_hash
            if stored is None:
                return None
            # scrypt is deliberately slow: run it off the event loop.
            ok = await asyncio.to_thread(verify_password, password, stored)
            return creds.account if ok else None

        account = await self._passwords.get(key, load)
        if account is None:
            lockout = await guard.failed(login, address)
            if lockout is not None:
                log.warning(
                    "password guessing: %s %r locked for %.0f s after %d failed %s password "
                    "checks (login %r)",
                    "address" if lockout.kind == "address" else "login from",
                    lockout.address,
                    lockout.seconds,
                    lockout.failures,
                    kind.upper(),
                    login,
                )
            raise Unauthorized()
        await guard.succeeded(login, address, checked=checked)
        return _active(account)

    def cached_sender_set(self, account_id: int) -> frozenset[str] | None:
        """The account's sender names if cached and fresh, else None (then await `sender_set`)."""
        hit = self._senders.peek(account_id)
        return None if hit is None else hit.value

    async def sender_set(self, account_id: int) -> frozenset[str]:
        async def load() -> frozenset[str]:
            names = await self._store.originators(account_id)
            self._sender_order[account_id] = names
            return frozenset(names)

        return await self._senders.get(account_id, load)

    async def senders(self, account_id: int) -> list[str]:
        await self.sender_set(account_id)
        return list(self._sender_order.get(account_id, []))

    def forget(self) -> None:
        """Drop every cached entry (after an admin change in this process)."""
        self._tokens.clear()
        self._passwords.clear()
        self._senders.clear()


def _active(account: AccountRecord | None) -> AccountRecord:
    if account is None or not account.active:
        raise Unauthorized()
    return account
