"""The delivery policy: verdicts for every HTTP outcome, backoff with jitter, the 24 h window,
Retry-After, and the endpoint that is disabled after failing for a day."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.webhooks.attempt import Attempt, Failure
from smsgate.webhooks.delivery_policy import (
    DAY,
    DeadLetter,
    Delivered,
    EndpointHealth,
    RetryAt,
    RetryPolicy,
    Verdict,
    backoff,
    endpoint_after,
    next_step,
    retry_after_seconds,
    verdict,
)

POLICY = RetryPolicy()
T0 = 1_800_000_000.0


def no_jitter() -> float:
    return 0.0


def full_jitter() -> float:
    return 0.999999


def http(status: int, retry_after: str | None = None) -> Attempt:
    return Attempt(
        status, 0.01, None if 200 <= status < 300 else f"HTTP {status}", None, retry_after
    )


def failed(failure: Failure) -> Attempt:
    return Attempt(None, 0.01, f"{failure.value}: boom", failure)


def step(attempt: Attempt, *, failed_attempts: int = 1, now: float = T0) -> object:
    return next_step(
        POLICY,
        attempt,
        first_attempt_at=T0,
        failed_attempts=failed_attempts,
        now=now,
        rand=no_jitter,
    )


@pytest.mark.parametrize("status", range(200, 300))
def test_every_2xx_is_delivered(status: int) -> None:
    assert verdict(http(status)) is Verdict.DELIVERED
    assert step(http(status)) == Delivered()


@pytest.mark.parametrize("status", [*range(500, 600), 408, 425, 429])
def test_5xx_and_the_not_now_4xx_are_retried(status: int) -> None:
    assert verdict(http(status)) is Verdict.RETRY
    assert step(http(status)) == RetryAt(T0 + 5.0, f"HTTP {status}")


@pytest.mark.parametrize(
    "status", [s for s in range(300, 500) if s not in (408, 425, 429)] + [100, 101]
)
def test_other_4xx_3xx_and_stray_1xx_are_dead_lettered_at_once(status: int) -> None:
    assert verdict(http(status)) is Verdict.REFUSED
    assert step(http(status)) == DeadLetter(f"HTTP {status}", disable_endpoint=status == 410)


@pytest.mark.parametrize("failure", [Failure.TIMEOUT, Failure.CONNECT, Failure.TRANSPORT])
def test_network_failures_are_retried(failure: Failure) -> None:
    assert verdict(failed(failure)) is Verdict.RETRY
    assert step(failed(failure)) == RetryAt(T0 + 5.0, f"{failure.value}: boom")


def test_an_address_refused_by_the_ssrf_check_is_dead_lettered() -> None:
    assert step(failed(Failure.URL_REFUSED)) == DeadLetter("url_refused: boom")


def test_backoff_doubles_then_stays_at_the_cap() -> None:
    delays = [backoff(POLICY, n, no_jitter) for n in range(1, 15)]
    assert delays[:4] == [5.0, 10.0, 20.0, 40.0]
    assert delays[-1] == 3600.0
    assert all(b == min(2 * a, 3600.0) for a, b in itertools.pairwise(delays))


@given(st.integers(min_value=1, max_value=100_000), st.floats(min_value=0, max_value=0.999999))
def test_jitter_takes_at_most_half_of_each_delay(n: int, u: float) -> None:
    ceiling = backoff(POLICY, n, no_jitter)
    assert ceiling / 2 <= backoff(POLICY, n, lambda: u) <= ceiling


def test_jitter_spreads_endpoints_that_failed_together() -> None:
    rng = random.Random(7)
    delays = {round(backoff(POLICY, 6, rng.random), 3) for _ in range(50)}
    assert len(delays) > 40
    assert min(delays) >= 80.0 and max(delays) <= 160.0


def test_backoff_needs_a_failure_first() -> None:
    with pytest.raises(ValueError):
        backoff(POLICY, 0, no_jitter)


def test_a_delivery_failing_forever_is_retried_for_24_h_then_dead_lettered() -> None:
    now, failures, times = T0, 0, []
    while True:
        failures += 1
        result = step(http(503), failed_attempts=failures, now=now)
        if isinstance(result, DeadLetter):
            break
        assert isinstance(result, RetryAt) and result.at > now
        times.append(result.at)
        now = result.at
    assert times[-1] == T0 + DAY  # the last retry is at the end of the window
    assert result == DeadLetter("gave up after 24 h of retries: HTTP 503")
    assert 25 <= failures <= 40


@given(st.integers(min_value=1, max_value=200), st.floats(min_value=0, max_value=DAY))
def test_no_retry_is_ever_scheduled_past_the_window(failures: int, elapsed: float) -> None:
    result = step(http(500), failed_attempts=failures, now=T0 + elapsed)
    assert isinstance(result, (RetryAt, DeadLetter))
    if isinstance(result, RetryAt):
        assert T0 + elapsed < result.at <= T0 + DAY


def test_retry_after_in_seconds_is_honoured_on_429_and_503() -> None:
    assert step(http(429, "120")) == RetryAt(T0 + 120, "HTTP 429")
    assert step(http(503, "120")) == RetryAt(T0 + 120, "HTTP 503")


def test_retry_after_never_shortens_the_backoff_and_is_ignored_elsewhere() -> None:
    assert step(http(429, "1"), failed_attempts=3) == RetryAt(T0 + 20, "HTTP 429")
    assert step(http(500, "120")) == RetryAt(T0 + 5, "HTTP 500")


def test_retry_after_as_an_http_date() -> None:
    when = format_datetime(datetime.fromtimestamp(T0 + 600, UTC), usegmt=True)
    assert step(http(429, when)) == RetryAt(T0 + 600, "HTTP 429")


def test_a_huge_retry_after_is_cut_and_never_passes_the_window() -> None:
    assert step(http(429, "999999")) == RetryAt(T0 + 6 * 3600, "HTTP 429")
    late = T0 + DAY - 60
    assert step(http(429, "3600"), now=late) == RetryAt(T0 + DAY, "HTTP 429")


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("0", 0.0),
        (" 30 ", 30.0),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past
        ("Wed, 21 Oct 2015 07:28:00", None),  # no zone: not an HTTP-date
    ],
)
def test_retry_after_parsing(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, T0) == seconds


def test_endpoint_heals_on_any_success() -> None:
    health = endpoint_after(POLICY, EndpointHealth(), http(500), T0)
    assert health == EndpointHealth(failing_since=T0)
    health = endpoint_after(POLICY, health, http(500), T0 + 3600)
    assert health == EndpointHealth(failing_since=T0)
    assert endpoint_after(POLICY, health, http(204), T0 + 7200) == EndpointHealth()


def test_endpoint_failing_for_24_h_is_disabled_and_says_why() -> None:
    health = endpoint_after(POLICY, EndpointHealth(), failed(Failure.CONNECT), T0)
    health = endpoint_after(POLICY, health, failed(Failure.CONNECT), T0 + DAY - 1)
    assert not health.disabled
    health = endpoint_after(POLICY, health, failed(Failure.TIMEOUT), T0 + DAY)
    assert health.disabled and health.disabled_at == T0 + DAY
    assert health.disabled_reason == "failing for 24 h without a success: timeout: boom"


def test_a_disabled_endpoint_stays_disabled_until_an_operator_resets_it() -> None:
    disabled = EndpointHealth(T0, T0 + DAY, "failing")
    assert endpoint_after(POLICY, disabled, http(200), T0 + DAY + 5) == disabled


def test_410_gone_disables_the_endpoint_at_once() -> None:
    health = endpoint_after(POLICY, EndpointHealth(), http(410), T0)
    assert health.disabled and health.disabled_reason is not None
    assert "410 Gone" in health.disabled_reason


@pytest.mark.parametrize(
    "kwargs",
    [
        {"first_delay": 0},
        {"factor": 0.5},
        {"max_delay": 1, "first_delay": 5},
        {"jitter": 1.0},
        {"retry_for": 0},
    ],
)
def test_a_policy_that_makes_no_sense_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_a_constant_backoff_policy() -> None:
    flat = RetryPolicy(first_delay=30, factor=1, max_delay=30, jitter=0)
    assert [backoff(flat, n, full_jitter) for n in (1, 2, 50)] == [30, 30, 30]
