"""Which failures are retried, and after how long."""

from __future__ import annotations

import pytest

from smsgate.client.errors import (
    AuthenticationError,
    DuplicateError,
    RateLimitedError,
    ServerError,
    SmsGateError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)
from smsgate.client.retry import RetryPolicy


def test_backoff_doubles_from_the_configured_start() -> None:
    policy = RetryPolicy(retries=3, backoff=0.5)
    error = ServerError("down", 503)
    assert [policy.delay(n, error) for n in range(4)] == [0.5, 1.0, 2.0, None]


def test_backoff_is_capped_at_max_delay() -> None:
    policy = RetryPolicy(retries=10, backoff=1.0, max_delay=5.0)
    assert policy.delay(6, TransportError("refused")) == 5.0


def test_retry_after_is_honoured_instead_of_the_backoff() -> None:
    policy = RetryPolicy(retries=3, backoff=0.5)
    assert policy.delay(0, RateLimitedError("slow down", retry_after=3.0)) == 3.0


def test_rate_limit_without_retry_after_backs_off_exponentially() -> None:
    policy = RetryPolicy(retries=3, backoff=0.5)
    assert policy.delay(1, RateLimitedError("slow down")) == 1.0


def test_a_retry_after_longer_than_max_delay_gives_up_at_once() -> None:
    policy = RetryPolicy(retries=3, max_delay=60.0)
    assert policy.delay(0, RateLimitedError("come back tomorrow", retry_after=86_400.0)) is None


def test_connection_errors_are_retried() -> None:
    assert RetryPolicy().delay(0, TransportError("connection refused")) == 0.5


@pytest.mark.parametrize(
    "error",
    [
        ValidationError("phone: required", 400, {"phone": "required"}),
        AuthenticationError("bad token", 401),
        DuplicateError("doubled", 453),
        UnexpectedResponseError("not found", 404),
    ],
)
def test_answers_that_would_only_repeat_are_never_retried(error: SmsGateError) -> None:
    assert RetryPolicy(retries=5).delay(0, error) is None


def test_zero_retries_means_one_attempt() -> None:
    assert RetryPolicy(retries=0).delay(0, ServerError("down", 500)) is None
