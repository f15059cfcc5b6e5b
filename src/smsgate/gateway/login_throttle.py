"""A brake on password guessing: failed password checks lock the client address, and the login
as tried from that address, for a while that doubles with each further failure.

A pure policy (no I/O; it takes a clock). It must never lock a login for everyone: the right
password from an address that is not the one guessing keeps working, or anyone could lock a
customer out by guessing wrong on purpose. Each process keeps its own counts; login_guard.py
applies the same policy to the counts every worker and node shares in the store, and teaches
this process the locks found there (`judge`, `learn`).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from smsgate.immutable import record

# Beyond these many entries the stale ones are dropped, then the oldest: memory stays bounded
# whatever number of addresses and logins a guesser sprays.
MAX_ENTRIES: Final = 100_000
UNKNOWN_ADDRESS: Final = "unknown"
K = TypeVar("K")


@record
class Lockout:
    """A lock a failure just started: for the log line saying who guesses."""

    kind: str  # "address" (every login from it) or "login" (this login from that address)
    login: str
    address: str
    failures: int
    seconds: float


@dataclass(slots=True)
class _Failures:
    count: int = 0
    last_at: float = 0.0
    locked_until: float = 0.0


class LoginThrottle:
    """Counts failed password checks per address and per (login, address).

    An address may fail `address_allowance` times (over any logins: a shared NAT address holds
    several customers) and a login from one address `pair_allowance` times before a lock of
    `base_lock` seconds, doubled for each failure after, at most `max_lock`. A login failed more
    than `login_alarm` times from anywhere is being guessed from many addresses: each address
    then gets one failure on it before its lock. Counts are forgotten `forget_after` seconds
    after their last failure; a success forgets that login's failures from that address.
    """

    def __init__(
        self,
        # Wall-clock time: the locks it learns from the store were set by other processes.
        clock: Callable[[], float] = time.time,
        *,
        address_allowance: int = 20,
        pair_allowance: int = 5,
        login_alarm: int = 50,
        base_lock: float = 1.0,
        max_lock: float = 900.0,
        forget_after: float = 900.0,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self._clock = clock
        self._address_allowance = address_allowance
        self._pair_allowance = pair_allowance
        self._login_alarm = login_alarm
        self._base_lock = base_lock
        self._max_lock = max_lock
        self._forget_after = forget_after
        self._max_entries = max_entries
        self._addresses: dict[str, _Failures] = {}
        self._pairs: dict[tuple[str, str], _Failures] = {}
        self._logins: dict[str, _Failures] = {}
        self.refused = 0  # attempts turned away without a password check

    def refuses(self, login: str, address: str | None) -> float:
        """Seconds until `login` may be tried from `address` again; 0.0 when it may now. A
        refused attempt is not checked and not counted (the lock does not grow while it runs)."""
        if not self._addresses and not self._pairs:
            return 0.0  # nobody failed lately: the usual case costs two tests
        now = self._clock()
        key = address_key(address)
        wait = 0.0
        entry = self._addresses.get(key)
        if entry is not None and entry.locked_until > now:
            wait = entry.locked_until - now
        entry = self._pairs.get((login, key))
        if entry is not None and entry.locked_until > now:
            wait = max(wait, entry.locked_until - now)
        if wait:
            self.refused += 1
        return wait

    def failed(self, login: str, address: str | None) -> Lockout | None:
        """Count a wrong password (or an unknown login); the lock this starts, if any."""
        now = self._clock()
        key = address_key(address)
        if len(self._pairs) >= self._max_entries or len(self._addresses) >= self._max_entries:
            self._prune(now)
        on_login = self._count(self._logins, login, now)
        by_address = self._count(self._addresses, key, now)
        by_pair = self._count(self._pairs, (login, key), now)
        started = self.judge(
            login,
            address,
            address_failures=by_address.count,
            pair_failures=by_pair.count,
            login_failures=on_login.count,
        )
        for lock in started:
            entry = by_address if lock.kind == "address" else by_pair
            entry.locked_until = max(entry.locked_until, now + lock.seconds)
        return max(started, key=lambda lock: lock.seconds, default=None)

    def judge(
        self,
        login: str,
        address: str | None,
        *,
        address_failures: int,
        pair_failures: int,
        login_failures: int,
    ) -> list[Lockout]:
        """The locks these counts start (the policy alone: nothing is counted or locked)."""
        pair_allowance = 1 if login_failures > self._login_alarm else self._pair_allowance
        started = []
        for kind, count, allowance in (
            ("address", address_failures, self._address_allowance),
            ("login", pair_failures, pair_allowance),
        ):
            if count >= allowance:
                seconds = min(self._max_lock, self._base_lock * 2 ** min(count - allowance, 30))
                started.append(Lockout(kind, login, address_key(address), count, seconds))
        return started

    def learn(self, kind: str, login: str, address: str | None, until: float) -> None:
        """Hold a lock another process started (`kind` as in Lockout), until `until` on
        this process's clock."""
        now = self._clock()
        if len(self._pairs) >= self._max_entries or len(self._addresses) >= self._max_entries:
            self._prune(now)
        key = address_key(address)
        entry = (
            self._addresses.setdefault(key, _Failures(last_at=now))
            if kind == "address"
            else self._pairs.setdefault((login, key), _Failures(last_at=now))
        )
        entry.locked_until = max(entry.locked_until, until)

    def now(self) -> float:
        return self._clock()

    @property
    def forget_after(self) -> float:
        return self._forget_after

    def succeeded(self, login: str, address: str | None) -> None:
        """The right password: that login's failures from that address are forgotten. The
        address's own count stays, or a guesser with one account of its own could clear it."""
        if self._pairs:  # the usual case, nobody failing lately, costs one test
            self._pairs.pop((login, address_key(address)), None)

    def _count(self, table: dict[K, _Failures], key: K, now: float) -> _Failures:
        entry = table.get(key)
        if entry is None or (
            now - entry.last_at > self._forget_after and entry.locked_until <= now
        ):
            entry = table[key] = _Failures()
        entry.count += 1
        entry.last_at = now
        return entry

    def _prune(self, now: float) -> None:
        self._prune_table(self._addresses, now)
        self._prune_table(self._pairs, now)
        self._prune_table(self._logins, now)

    def _prune_table(self, table: dict[K, _Failures], now: float) -> None:
        stale = [
            key
            for key, entry in table.items()
            if now - entry.last_at > self._forget_after and entry.locked_until <= now
        ]
        for key in stale:
            del table[key]
        # Still full: the guesser rotates faster than entries go stale; drop the oldest half.
        if len(table) >= self._max_entries:
            for key in list(table)[: len(table) - self._max_entries // 2]:
                del table[key]


def address_key(address: str | None) -> str:
    """The unit an address is counted in: IPv4 as is, IPv6 by its /64 (one host usually holds
    a whole /64, and counting single addresses there would count nothing)."""
    if not address:
        return UNKNOWN_ADDRESS
    if ":" not in address:
        return address
    try:
        ip = ipaddress.IPv6Address(address.split("%", 1)[0])
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
