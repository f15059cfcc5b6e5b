"""Token bucket as pure arithmetic: the caller keeps the bucket, passes the time, and gets back
the new bucket and either permission or how long to wait (Retry-After).

No clocks and no storage here; a clock that runs backwards never mints tokens.
"""

from __future__ import annotations

from smsgate.immutable import record

# Float refills such as 0.1 * 10 land a hair below the whole number; do not refuse those.
_EPSILON = 1e-9


@record
class Bucket:
    tokens: float
    updated_at: float


def take(
    bucket: Bucket | None, now: float, rate: float, burst: float, cost: float = 1.0
) -> tuple[Bucket, float | None]:
    """Spend `cost` tokens from a bucket refilling at `rate` per second up to `burst`.

    Returns (bucket, None) when allowed, else (refilled bucket, seconds until it would be allowed).
    A missing bucket starts full. `rate <= 0` means unlimited. A cost above `burst` is allowed
    from a full bucket and leaves it in debt: a large batch is slowed down, never refused forever.
    """
    if rate <= 0:
        return Bucket(tokens=max(burst, 0.0), updated_at=now), None
    if burst <= 0:
        raise ValueError("burst must be positive when a rate is set")
    if bucket is None:
        tokens, updated_at = burst, now
    elif now > bucket.updated_at:
        tokens = min(burst, bucket.tokens + (now - bucket.updated_at) * rate)
        updated_at = now
    else:
        # The clock went back (or stood still): keep the later timestamp so nothing is refilled
        # twice when it moves forward again.
        tokens, updated_at = bucket.tokens, bucket.updated_at
    needed = min(cost, burst)
    if tokens + _EPSILON >= needed:
        return Bucket(tokens=tokens - cost, updated_at=updated_at), None
    wait = (needed - tokens) / rate + max(updated_at - now, 0.0)
    return Bucket(tokens=tokens, updated_at=updated_at), wait
