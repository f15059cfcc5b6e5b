"""When to send a webhook or callback again, when to give it up, when to disable an endpoint.

Sans-IO like smpp/session.py: it is given attempts and times (wall-clock epoch seconds, as the
store keeps them) and a random source, and returns decisions and deadlines; it never reads a
clock, sleeps or sends.

Delivery is at least once: a delivery is retried with exponential backoff and jitter until
`retry_for` (24 h) after its first attempt, then dead-lettered where an operator can see and
redeliver it. What is retried: timeouts, connection errors, broken HTTP, 5xx, and 408, 425 and
429 (the receiver asks us to come back; Retry-After is honoured on 429 and 503). A 4xx other
than those, and a 3xx (redirects are never followed), is dead-lettered at once: the receiver has
judged this request itself (bad signature, unknown path, body refused), so the same bytes sent
again for a day would get the same answer and only load the endpoint. Nothing is lost by that:
the dead letter stays redeliverable once the receiver is fixed. An address refused by the SSRF
check is dead-lettered for the same reason. A 410 Gone also disables the endpoint.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from enum import Enum

from smsgate.immutable import record
from smsgate.webhooks.attempt import Attempt, Failure

DAY = 24 * 3600.0

# 4xx answers that mean "not now" rather than "not this": Request Timeout, Too Early, Too Many.
_RETRYABLE_4XX = frozenset({408, 425, 429})
_HONOURS_RETRY_AFTER = frozenset({429, 503})


@record
class RetryPolicy:
    """Backoff `first_delay * factor ** (n - 1)` after the n-th failed attempt, capped at
    `max_delay`, minus up to `jitter` of it at random so endpoints that failed together do not
    come back together. With the defaults a delivery gets about 30 attempts in its 24 h."""

    first_delay: float = 5.0
    factor: float = 2.0
    max_delay: float = 3600.0
    jitter: float = 0.5  # fraction of each delay drawn at random: delay * (1 - jitter * U[0,1))
    retry_for: float = DAY  # after the first attempt; then the delivery is a dead letter
    max_retry_after: float = 6 * 3600.0  # a Retry-After longer than this is cut to it
    disable_after: float = DAY  # an endpoint failing without a success this long is disabled

    def __post_init__(self) -> None:
        if self.first_delay <= 0 or self.factor < 1 or self.max_delay < self.first_delay:
            raise ValueError("backoff needs first_delay > 0, factor >= 1, max_delay >= first")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter is a fraction in [0, 1)")
        if self.retry_for <= 0 or self.disable_after <= 0 or self.max_retry_after <= 0:
            raise ValueError("retry_for, disable_after and max_retry_after are positive")


class Verdict(Enum):
    DELIVERED = "delivered"
    RETRY = "retry"  # worth trying again later
    REFUSED = "refused"  # the same request will not succeed: dead letter now


@record
class Delivered:
    pass


@record
class RetryAt:
    at: float  # epoch seconds of the next attempt
    reason: str


@record
class DeadLetter:
    reason: str
    disable_endpoint: bool = False  # the receiver said the endpoint is gone (410)


Step = Delivered | RetryAt | DeadLetter


def verdict(attempt: Attempt) -> Verdict:
    """What one attempt's outcome says about sending the same request again."""
    status = attempt.status
    if status is None:
        return Verdict.REFUSED if attempt.failure is Failure.URL_REFUSED else Verdict.RETRY
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if status >= 500 or status in _RETRYABLE_4XX:
        return Verdict.RETRY
    return Verdict.REFUSED  # 1xx that reached us, 3xx not followed, other 4xx


def backoff(policy: RetryPolicy, failed_attempts: int, rand: Callable[[], float]) -> float:
    """Seconds to wait after `failed_attempts` (>= 1) failures; `rand` returns U[0, 1)."""
    if failed_attempts < 1:
        raise ValueError("backoff follows at least one failed attempt")
    # Compare exponents rather than computing factor ** n, which overflows after ~1,000 tries.
    ceiling = policy.max_delay
    if policy.factor > 1:
        steps = math.log(policy.max_delay / policy.first_delay, policy.factor)
        if failed_attempts - 1 < steps:
            ceiling = policy.first_delay * policy.factor ** (failed_attempts - 1)
    else:
        ceiling = policy.first_delay
    return ceiling * (1 - policy.jitter * rand())


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A Retry-After header as seconds from `now`: delta-seconds or an HTTP-date (RFC 9110
    §10.2.3). None when absent or unreadable; a date in the past gives 0."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None  # an HTTP-date is always GMT; a zoneless date is not one
    return max(0.0, when.timestamp() - now)


def next_step(
    policy: RetryPolicy,
    attempt: Attempt,
    *,
    first_attempt_at: float,
    failed_attempts: int,
    now: float,
    rand: Callable[[], float],
) -> Step:
    """After `attempt` (ending at `now`), deliver, retry at a time, or dead-letter.

    `failed_attempts` counts the failed attempts including this one. The last retry is put at
    the 24 h mark exactly, so a delivery is always tried once more at the end of its window.
    """
    kind = verdict(attempt)
    if kind is Verdict.DELIVERED:
        return Delivered()
    reason = attempt.error or _describe(attempt)
    if kind is Verdict.REFUSED:
        return DeadLetter(reason, disable_endpoint=attempt.status == 410)
    deadline = first_attempt_at + policy.retry_for
    if now >= deadline:
        return DeadLetter(f"gave up after {_duration(policy.retry_for)} of retries: {reason}")
    delay = backoff(policy, failed_attempts, rand)
    if attempt.status in _HONOURS_RETRY_AFTER:
        asked = retry_after_seconds(attempt.retry_after, now)
        if asked is not None:
            delay = max(delay, min(asked, policy.max_retry_after))
    return RetryAt(min(now + delay, deadline), reason)


@record
class EndpointHealth:
    """`failing_since`: time of the first failure after the last success (None while healthy);
    `disabled_at`: set once the endpoint is disabled, cleared only by an operator (a new
    EndpointHealth())."""

    failing_since: float | None = None
    disabled_at: float | None = None
    disabled_reason: str | None = None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


def endpoint_after(
    policy: RetryPolicy, health: EndpointHealth, attempt: Attempt, now: float
) -> EndpointHealth:
    """The endpoint's health after one attempt ending at `now`: any success heals it; any
    failure starts or continues its failing streak, which disables it after `disable_after`."""
    if health.disabled:
        return health
    if attempt.succeeded:
        return EndpointHealth()
    since = now if health.failing_since is None else health.failing_since
    reason = attempt.error or _describe(attempt)
    if attempt.status == 410:
        return EndpointHealth(since, now, f"the receiver answered 410 Gone: {reason}")
    if now - since >= policy.disable_after:
        failing = _duration(policy.disable_after)
        return EndpointHealth(since, now, f"failing for {failing} without a success: {reason}")
    return EndpointHealth(since)


def _describe(attempt: Attempt) -> str:
    if attempt.status is not None:
        return f"HTTP {attempt.status}"
    return attempt.failure.value if attempt.failure is not None else "no response"


def _duration(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    return f"{seconds:g} s"
