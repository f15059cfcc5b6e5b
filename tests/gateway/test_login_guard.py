"""The password-guessing throttle shared through the store (login_guard.py): workers or nodes on
one store count one guesser's failures together and learn each other's locks, a right password
from elsewhere still works, odd logins are stored under safe keys, and a store in trouble
leaves each process's own throttle in charge."""

from __future__ import annotations

from collections.abc import Sequence

from smsgate.gateway.login_guard import LoginGuard
from smsgate.gateway.login_throttle import LoginThrottle
from smsgate.store.interface import StoreError
from smsgate.store.memory import MemoryStore
from smsgate.store.records import LoginFailure

GUESSER = "198.51.100.20"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def two_workers(store: MemoryStore, clock: Clock) -> tuple[LoginGuard, LoginGuard]:
    return (
        LoginGuard(LoginThrottle(clock), store),
        LoginGuard(LoginThrottle(clock), store.sibling(2)),
    )


async def test_failures_on_two_workers_add_up_and_the_lock_reaches_both() -> None:
    clock = Clock()
    first, second = two_workers(MemoryStore(), clock)
    # A login from one address may fail 5 times: 3 here and 2 there lock it for both.
    for n in range(5):
        guard = first if n % 2 == 0 else second
        assert not guard.refuses("alice", GUESSER)
        assert not await guard.refused_elsewhere("alice", GUESSER)
        lockout = await guard.failed("alice", GUESSER)
    assert lockout is not None and (lockout.kind, lockout.failures) == ("login", 5)
    assert first.refuses("alice", GUESSER)  # it started the lock: known without the store
    assert not second.refuses("alice", GUESSER)  # not yet known here...
    assert await second.refused_elsewhere("alice", GUESSER)  # ...until a check asks
    assert second.refuses("alice", GUESSER)
    # Another address, and another login from the guesser's address, are not locked.
    assert not await second.refused_elsewhere("alice", "203.0.113.1")
    assert not await second.refused_elsewhere("bob", GUESSER)
    clock.now += 1.5  # the first lock (1 s) ran out everywhere
    assert not first.refuses("alice", GUESSER)
    assert not await second.refused_elsewhere("alice", GUESSER)


async def test_a_right_password_forgets_the_logins_failures_from_that_address() -> None:
    store, clock = MemoryStore(), Clock()
    first, second = two_workers(store, clock)
    for _ in range(4):
        await first.failed("alice", GUESSER)
    await second.succeeded("alice", GUESSER, checked=True)
    assert await store.login_failures(["login-from:alice@" + GUESSER]) == {}
    # The address's own count stays: a guesser with an account of its own cannot clear it.
    assert (await store.login_failures(["address:" + GUESSER]))["address:" + GUESSER].count == 4


async def test_odd_logins_are_counted_under_printable_keys_of_bounded_length() -> None:
    store, clock = MemoryStore(), Clock()
    guard = LoginGuard(LoginThrottle(clock), store)
    for login in ("nul\x00in", "lone\udc80surrogate", "x" * 5000, "tab\there"):
        await guard.failed(login, GUESSER)
    keys = list(store.state.login_failures)
    assert len(keys) == 1 + 4 * 2  # the address, and each login alone and from the address
    assert all(key.isprintable() and len(key) <= 255 for key in keys), keys


class TroubledStore(MemoryStore):
    async def login_failures(self, keys: Sequence[str]) -> dict[str, LoginFailure]:
        raise StoreError("database is locked")

    async def count_login_failure(
        self, keys: Sequence[str], now: float, forget_after: float
    ) -> dict[str, LoginFailure]:
        raise StoreError("database is locked")


async def test_a_store_in_trouble_leaves_the_process_throttle_in_charge() -> None:
    guard = LoginGuard(LoginThrottle(Clock()), TroubledStore())
    assert not await guard.refused_elsewhere("alice", GUESSER)
    for _ in range(5):
        lockout = await guard.failed("alice", GUESSER)
    assert lockout is not None and lockout.failures == 5
    assert guard.refuses("alice", GUESSER)
