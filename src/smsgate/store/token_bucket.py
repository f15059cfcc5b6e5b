"""The token-bucket arithmetic behind per-account rate limits: tokens refill at `rate` per
second up to `burst`, one request takes one token. Pure values; the store keeps the bucket."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bucket:
    tokens: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class Take:
    bucket: Bucket  # the state to store, whether or not the token was granted
    retry_after: float | None  # None: granted; else seconds until a token is there


def full(burst: float, now: float) -> Bucket:
    return Bucket(tokens=burst, updated_at=now)


def take(bucket: Bucket, now: float, rate: float, burst: float) -> Take:
    """Take one token. A rate of 0 or less means no limit."""
    if rate <= 0:
        return Take(bucket, None)
    # A clock that steps back must not mint tokens nor make the wait negative.
    elapsed = max(0.0, now - bucket.updated_at)
    tokens = min(max(burst, 1.0), bucket.tokens + elapsed * rate)
    at = max(now, bucket.updated_at)
    if tokens >= 1.0:
        return Take(Bucket(tokens - 1.0, at), None)
    return Take(Bucket(tokens, at), (1.0 - tokens) / rate)
