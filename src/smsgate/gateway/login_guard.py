"""The password-guessing throttle held across workers and nodes: login_throttle.LoginThrottle's
policy applied to failures counted in the store (the LoginFailures role), so an attacker that
spreads its guesses over `serve --workers N` or several nodes gets no more tries than against
one process.

This process's LoginThrottle stays the fast path and learns each lock the store holds for an
address it meets, so a locked guesser is then turned away without a store call. The store is
asked only where a password is really checked (a scrypt, far dearer than the read) or has
failed. A store in trouble leaves this process's own counts in charge: it never refuses a login
by itself.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from smsgate.gateway.login_throttle import Lockout, LoginThrottle, address_key
from smsgate.store.interface import StoreError
from smsgate.store.roles import LoginFailures

log = logging.getLogger(__name__)

_MAX_KEY = 200  # characters: a longer key is stored as a digest


@dataclass(frozen=True, slots=True)
class _Keys:
    address: str  # every login from the address
    pair: str  # this login from the address
    login: str  # this login from anywhere: the alarm of a login guessed from many addresses


def _keys(login: str, address: str | None) -> _Keys:
    where = address_key(address)
    # An address from a socket holds no "@", so the last one splits the pair unambiguously.
    return _Keys(
        _key("address", where), _key("login-from", f"{login}@{where}"), _key("login", login)
    )


def _key(kind: str, value: str) -> str:
    """Readable where it can be; a login with control characters, a NUL or a lone surrogate
    (which PostgreSQL's text refuses), or a long one, is stored as its digest."""
    key = f"{kind}:{value}"
    if len(key) <= _MAX_KEY and value.isprintable():
        return key
    return f"{kind}#" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


class LoginGuard:
    """`throttle` is this process's (tests replace it with one on a frozen clock); `store`
    None keeps the counts in this process only."""

    def __init__(self, throttle: LoginThrottle, store: LoginFailures | None) -> None:
        self.throttle = throttle
        self._store = store

    def refuses(self, login: str, address: str | None) -> bool:
        """A lock this process knows of; no store call (every request asks this)."""
        return self.throttle.refuses(login, address) > 0

    async def refused_elsewhere(self, login: str, address: str | None) -> bool:
        """Before a password check: whether another worker or node locked the address, or
        the login from it. A lock found is held by this process from then on."""
        if self._store is None:
            return False
        keys = _keys(login, address)
        try:
            found = await self._store.login_failures([keys.address, keys.pair])
        except StoreError:
            return False
        now = self.throttle.now()
        refused = False
        for kind, key in (("address", keys.address), ("login", keys.pair)):
            entry = found.get(key)
            if entry is not None and entry.locked_until > now:
                self.throttle.learn(kind, login, address, entry.locked_until)
                refused = True
        if refused:
            self.throttle.refused += 1
        return refused

    async def failed(self, login: str, address: str | None) -> Lockout | None:
        """Count a wrong password here and in the store: the lock it starts, if any (the
        longer of this process's verdict and the shared counts')."""
        lockout = self.throttle.failed(login, address)
        if self._store is None:
            return lockout
        keys = _keys(login, address)
        now = self.throttle.now()
        try:
            counted = await self._store.count_login_failure(
                [keys.address, keys.pair, keys.login], now, self.throttle.forget_after
            )
            started = self.throttle.judge(
                login,
                address,
                address_failures=counted[keys.address].count,
                pair_failures=counted[keys.pair].count,
                login_failures=counted[keys.login].count,
            )
            for lock in started:
                until = now + lock.seconds
                await self._store.lock_login(
                    keys.address if lock.kind == "address" else keys.pair, until
                )
                self.throttle.learn(lock.kind, login, address, until)
                if lockout is None or lock.seconds > lockout.seconds:
                    lockout = lock
        except StoreError as exc:
            log.warning("password guessing: failures not shared with other nodes: %s", exc)
        return lockout

    async def succeeded(self, login: str, address: str | None, *, checked: bool) -> None:
        """The right password: the login's failures from the address are forgotten, in the
        store too when the password was really `checked` (a cached one found no failure
        worth a write)."""
        self.throttle.succeeded(login, address)
        if self._store is None or not checked:
            return
        try:
            await self._store.forget_login_failures([_keys(login, address).pair])
        except StoreError:
            return  # the count runs out by itself
