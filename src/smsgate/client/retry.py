"""When to try a request again and after how long: exponential backoff on 429 and on a 409 for
an Idempotency-Key still in flight (both honouring Retry-After), 5xx and transport failures;
never on an answer that would only repeat itself.

Pure decisions: it never sleeps; the clients do, through an injectable sleep function.
"""

from __future__ import annotations

from smsgate.immutable import record

from .errors import (
    RateLimitedError,
    RequestInFlightError,
    ServerError,
    SmsGateError,
    TransportError,
)


@record
class RetryPolicy:
    retries: int = 3  # retries after the first attempt, so retries + 1 attempts at most
    backoff: float = 0.5  # seconds before the first retry; doubled for each next one
    max_delay: float = 60.0  # the longest wait; a longer Retry-After is given up on at once

    def delay(self, attempt: int, error: SmsGateError) -> float | None:
        """Seconds to wait before retrying after `attempt` failed (0-based), or None to give up."""
        if attempt >= self.retries:
            return None
        if isinstance(error, RateLimitedError | RequestInFlightError):
            if error.retry_after is not None:
                # Waiting less than the server asked only earns another refusal.
                return error.retry_after if error.retry_after <= self.max_delay else None
            return min(self.backoff * 2.0**attempt, self.max_delay)
        if isinstance(error, ServerError | TransportError):
            return min(self.backoff * 2.0**attempt, self.max_delay)
        return None
