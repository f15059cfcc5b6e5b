"""A TPS limiter for one bind: a token bucket driven by the caller's clock.

It only answers "how long to wait before the next PDU"; it never sleeps or reads a clock.
"""

from __future__ import annotations


class TpsLimiter:
    """At most `tps` PDUs per second on average, with bursts of up to `burst` (default: one
    second's worth, at least 1)."""

    __slots__ = ("_stamp", "_tokens", "burst", "tps")

    def __init__(self, tps: float, burst: float | None = None, now: float = 0.0) -> None:
        if tps <= 0:
            raise ValueError("tps must be positive")
        self.tps = tps
        self.burst = max(1.0, burst if burst is not None else tps)
        self._tokens = self.burst
        self._stamp = now

    def delay(self, now: float) -> float:
        """Seconds to wait before one more PDU may go; 0.0 means go now (the token is taken)."""
        tokens = min(self.burst, self._tokens + (now - self._stamp) * self.tps)
        self._stamp = now
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            return 0.0
        self._tokens = tokens
        return (1.0 - tokens) / self.tps
