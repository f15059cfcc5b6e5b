"""Per-account request limits of the native API, with the RateLimit-* headers that say where a
client stands (draft-ietf-httpapi-ratelimit-headers) and Retry-After when refused.

Kept in this node's memory, a token bucket per account: a guard against a runaway client, not
a quota. Sending is limited again, across nodes, by the account's own rate in the store.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from smsgate.domain import ratelimit

from .problems import ProblemError

RATE = 50.0  # requests per second per account
BURST = 100
_MAX_ACCOUNTS = 100_000  # buckets kept; past this the idle ones are forgotten (they refill)


class ApiLimits:
    def __init__(
        self, rate: float = RATE, burst: int = BURST, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: dict[int, ratelimit.Bucket] = {}

    def take(self, account_id: int) -> tuple[dict[str, str], float | None]:
        """Spend one request of the account: the RateLimit-* headers to answer with, and the
        seconds to wait when refused (None when allowed)."""
        now = self._clock()
        if len(self._buckets) >= _MAX_ACCOUNTS and account_id not in self._buckets:
            self._buckets.clear()
        bucket, wait = ratelimit.take(self._buckets.get(account_id), now, self._rate, self._burst)
        self._buckets[account_id] = bucket
        remaining = max(0, math.floor(bucket.tokens))
        reset = math.ceil(max(0.0, self._burst - bucket.tokens) / self._rate)
        headers = {
            "RateLimit-Limit": str(self._burst),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(reset),
        }
        if wait is not None:
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return headers, wait


def too_many_requests(headers: dict[str, str]) -> ProblemError:
    """The 429 problem of a request `take` refused, with its RateLimit-* and Retry-After."""
    return ProblemError(
        429,
        "rate-limited",
        "Too Many Requests",
        "This account's request rate is exceeded.",
        retry_after=int(headers["Retry-After"]),
        headers=headers,
    )
