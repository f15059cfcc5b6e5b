"""The password-guessing brake as a pure policy: a fake clock, no store, no sockets."""

from __future__ import annotations

from smsgate.gateway.login_throttle import LoginThrottle, address_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle(clock: Clock, **options: float) -> LoginThrottle:
    return LoginThrottle(clock, **options)  # type: ignore[arg-type]


def test_a_few_wrong_passwords_are_all_checked() -> None:
    t = throttle(Clock())
    for _ in range(4):
        assert t.refuses("shop", "10.0.0.1") == 0.0
        assert t.failed("shop", "10.0.0.1") is None
    assert t.refuses("shop", "10.0.0.1") == 0.0


def test_guessing_one_login_locks_it_from_that_address_and_the_lock_doubles() -> None:
    clock = Clock()
    t = throttle(clock)
    for _ in range(4):
        t.failed("shop", "10.0.0.1")
    lockout = t.failed("shop", "10.0.0.1")
    assert lockout is not None and (lockout.kind, lockout.seconds) == ("login", 1.0)
    assert t.refuses("shop", "10.0.0.1") == 1.0
    assert t.refuses("shop", "10.0.0.2") == 0.0  # the right password elsewhere still works
    assert t.refuses("other", "10.0.0.1") == 0.0
    clock.now += 1.0
    assert t.refuses("shop", "10.0.0.1") == 0.0
    lockout = t.failed("shop", "10.0.0.1")
    assert lockout is not None and lockout.seconds == 2.0


def test_guessing_many_logins_from_one_address_locks_the_address() -> None:
    t = throttle(Clock())
    lockouts = [t.failed(f"user{n}", "10.0.0.9") for n in range(20)]
    assert lockouts[-1] is not None and lockouts[-1].kind == "address"
    assert all(lock is None for lock in lockouts[:-1])
    assert t.refuses("anyone", "10.0.0.9") > 0
    assert t.refuses("anyone", "10.0.0.8") == 0.0


def test_200_wrong_passwords_are_mostly_refused_unchecked_and_another_address_gets_in() -> None:
    clock = Clock()
    t = throttle(clock)
    checked = 0
    for _ in range(200):
        clock.now += 0.04  # a tight loop: 200 attempts in 8 s
        if t.refuses("shop", "10.0.0.1"):
            continue
        checked += 1
        t.failed("shop", "10.0.0.1")
    assert checked <= 10  # 5 free, then locks of 1, 2, 4 s... (8 s of guessing)
    assert t.refused == 200 - checked
    assert t.refuses("shop", "10.0.0.1") > 0
    assert t.refuses("shop", "192.0.2.7") == 0.0


def test_a_login_guessed_from_many_addresses_gives_each_only_one_try() -> None:
    t = throttle(Clock(), login_alarm=10)
    for n in range(11):
        t.failed("shop", f"10.0.1.{n}")
    lockout = t.failed("shop", "10.0.2.1")
    assert lockout is not None and lockout.kind == "login"
    assert t.refuses("shop", "10.0.2.1") > 0
    assert t.refuses("shop", "10.0.3.1") == 0.0  # an address that never guessed is let in


def test_the_right_password_forgets_that_logins_failures_from_that_address() -> None:
    t = throttle(Clock())
    for _ in range(4):
        t.failed("shop", "10.0.0.1")
    t.succeeded("shop", "10.0.0.1")
    for _ in range(4):
        assert t.failed("shop", "10.0.0.1") is None


def test_failures_are_forgotten_after_a_quiet_while() -> None:
    clock = Clock()
    t = throttle(clock, forget_after=60.0)
    for _ in range(4):
        t.failed("shop", "10.0.0.1")
    clock.now += 61.0
    for _ in range(4):
        assert t.failed("shop", "10.0.0.1") is None


def test_locks_never_exceed_the_maximum() -> None:
    clock = Clock()
    t = throttle(clock, max_lock=30.0)
    longest = 0.0
    for _ in range(100):
        clock.now += t.refuses("shop", "10.0.0.1")
        lockout = t.failed("shop", "10.0.0.1")
        if lockout is not None:
            longest = max(longest, lockout.seconds)
    assert longest == 30.0


def test_memory_stays_bounded_when_a_guesser_sprays_addresses() -> None:
    t = throttle(Clock(), max_entries=100)
    for n in range(5000):
        t.failed(f"user{n}", f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")
    assert len(t._pairs) <= 100 and len(t._addresses) <= 100 and len(t._logins) <= 100


def test_ipv6_addresses_count_by_their_64_and_mapped_ipv4_as_ipv4() -> None:
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff:2") == "2001:db8::/64"
    assert address_key("::ffff:10.0.0.1") == "10.0.0.1"
    assert address_key(None) == address_key("") == "unknown"
