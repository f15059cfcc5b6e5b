"""The token bucket: refill at rate up to burst, one token per request."""

from __future__ import annotations

import pytest

from smsgate.store import token_bucket


def test_a_full_bucket_grants_burst_requests_then_refuses() -> None:
    bucket = token_bucket.full(3, now=100.0)
    for _ in range(3):
        taken = token_bucket.take(bucket, 100.0, rate=1.0, burst=3)
        assert taken.retry_after is None
        bucket = taken.bucket
    refused = token_bucket.take(bucket, 100.0, rate=1.0, burst=3)
    assert refused.retry_after == pytest.approx(1.0)


def test_tokens_refill_at_rate_but_never_beyond_burst() -> None:
    empty = token_bucket.Bucket(tokens=0.0, updated_at=100.0)
    assert token_bucket.take(empty, 100.25, rate=2.0, burst=2).retry_after == pytest.approx(0.25)
    after_long_idle = token_bucket.take(empty, 10_000.0, rate=2.0, burst=2)
    assert after_long_idle.bucket.tokens == pytest.approx(1.0)


def test_zero_rate_means_no_limit() -> None:
    bucket = token_bucket.Bucket(tokens=0.0, updated_at=0.0)
    assert token_bucket.take(bucket, 0.0, rate=0.0, burst=0).retry_after is None


def test_a_clock_stepping_back_mints_no_tokens() -> None:
    bucket = token_bucket.Bucket(tokens=0.0, updated_at=100.0)
    taken = token_bucket.take(bucket, 50.0, rate=1.0, burst=5)
    assert taken.retry_after == pytest.approx(1.0)
    assert taken.bucket.updated_at == 100.0
