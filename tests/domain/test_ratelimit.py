import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.domain.ratelimit import Bucket, take


def test_first_request_starts_from_a_full_bucket() -> None:
    bucket, wait = take(None, now=100.0, rate=1.0, burst=5.0)
    assert wait is None
    assert bucket == Bucket(tokens=4.0, updated_at=100.0)


def test_burst_is_allowed_then_the_next_is_refused_with_retry_after() -> None:
    bucket = None
    for _ in range(3):
        bucket, wait = take(bucket, now=10.0, rate=2.0, burst=3.0)
        assert wait is None
    bucket, wait = take(bucket, now=10.0, rate=2.0, burst=3.0)
    assert wait == pytest.approx(0.5)
    assert bucket.tokens == pytest.approx(0.0)


def test_refused_request_spends_nothing() -> None:
    empty = Bucket(tokens=0.0, updated_at=10.0)
    bucket, wait = take(empty, now=10.0, rate=1.0, burst=1.0)
    assert wait == pytest.approx(1.0)
    assert bucket == empty


def test_tokens_refill_at_rate_after_waiting_retry_after() -> None:
    bucket, wait = take(Bucket(0.0, 10.0), now=10.0, rate=4.0, burst=1.0)
    assert wait is not None
    bucket, wait2 = take(bucket, now=10.0 + wait, rate=4.0, burst=1.0)
    assert wait2 is None


def test_refill_is_capped_at_burst() -> None:
    bucket, _ = take(Bucket(0.0, 0.0), now=1_000.0, rate=10.0, burst=5.0)
    assert bucket.tokens == pytest.approx(4.0)


def test_zero_or_negative_rate_is_unlimited() -> None:
    bucket = Bucket(0.0, 5.0)
    for rate in (0.0, -1.0):
        _, wait = take(bucket, now=5.0, rate=rate, burst=1.0, cost=1_000.0)
        assert wait is None


def test_clock_going_backwards_mints_no_tokens() -> None:
    bucket = Bucket(tokens=0.0, updated_at=100.0)
    back, wait = take(bucket, now=50.0, rate=1.0, burst=10.0)
    assert wait is not None
    assert back.tokens == 0.0
    assert back.updated_at == 100.0
    # Coming forward to just past the original time refills only from the original timestamp.
    _, wait = take(back, now=100.5, rate=1.0, burst=10.0)
    assert wait == pytest.approx(0.5)


def test_retry_after_while_clock_is_behind_includes_the_gap() -> None:
    _, wait = take(Bucket(0.0, 100.0), now=99.0, rate=1.0, burst=1.0)
    assert wait == pytest.approx(2.0)


def test_cost_of_several_parts_is_spent_at_once() -> None:
    bucket, wait = take(None, now=0.0, rate=1.0, burst=10.0, cost=3.0)
    assert wait is None
    assert bucket.tokens == pytest.approx(7.0)
    _, wait = take(Bucket(2.0, 0.0), now=0.0, rate=1.0, burst=10.0, cost=3.0)
    assert wait == pytest.approx(1.0)


def test_cost_above_burst_passes_from_a_full_bucket_and_leaves_debt() -> None:
    bucket, wait = take(None, now=0.0, rate=1.0, burst=5.0, cost=8.0)
    assert wait is None
    assert bucket.tokens == pytest.approx(-3.0)
    _, wait = take(bucket, now=0.0, rate=1.0, burst=5.0, cost=1.0)
    assert wait == pytest.approx(4.0)


def test_float_refill_just_below_a_whole_token_is_not_refused() -> None:
    bucket = Bucket(0.0, 0.0)
    _, wait = take(bucket, now=0.1 * 3, rate=10.0 / 3, burst=1.0)
    assert wait is None


def test_burst_must_be_positive_when_limited() -> None:
    with pytest.raises(ValueError):
        take(None, now=0.0, rate=1.0, burst=0.0)


@given(
    rate=st.floats(0.1, 100.0),
    burst=st.floats(1.0, 50.0),
    times=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=100),
)
def test_allowed_requests_never_exceed_burst_plus_refill(
    rate: float, burst: float, times: list[float]
) -> None:
    bucket: Bucket | None = None
    allowed = 0
    for now in times:  # unsorted: the clock jumps both ways
        bucket, wait = take(bucket, now=now, rate=rate, burst=burst)
        if wait is None:
            allowed += 1
        else:
            assert wait > 0 and math.isfinite(wait)
    span = max(times) - times[0]
    assert allowed <= math.floor(burst + span * rate + 1e-6)
