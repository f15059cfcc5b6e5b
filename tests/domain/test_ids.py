import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.domain.ids import EPOCH_MS, MAX_NODE_ID, IdGenerator, split_id

T0 = (EPOCH_MS + 1_000_000) / 1000  # some time after the epoch, in seconds


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_id_carries_milliseconds_node_and_sequence() -> None:
    gen = IdGenerator(5, FakeClock(T0))
    assert split_id(gen.next()) == (1_000_000, 5, 0)
    assert split_id(gen.next()) == (1_000_000, 5, 1)


def test_epoch_is_first_of_january_2026_utc() -> None:
    from datetime import UTC, datetime

    assert datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000 == EPOCH_MS


def test_new_millisecond_resets_sequence() -> None:
    clock = FakeClock(T0)
    gen = IdGenerator(1, clock)
    gen.next()
    gen.next()
    clock.now += 0.001
    assert split_id(gen.next())[2] == 0


def test_sequence_overflow_borrows_the_next_millisecond_without_waiting() -> None:
    gen = IdGenerator(3, FakeClock(T0))
    ids = gen.next_many(4096 * 3 + 1)
    assert ids == sorted(set(ids))
    assert split_id(ids[4095]) == (1_000_000, 3, 4095)
    assert split_id(ids[4096]) == (1_000_001, 3, 0)
    assert split_id(ids[-1]) == (1_000_003, 3, 0)


def test_clock_going_backwards_never_repeats_or_shrinks_an_id() -> None:
    clock = FakeClock(T0)
    gen = IdGenerator(2, clock)
    first = gen.next()
    clock.now -= 5.0
    second = gen.next()
    assert second > first
    clock.now = T0 + 0.002
    assert gen.next() > second


def test_clock_before_epoch_still_gives_increasing_ids() -> None:
    clock = FakeClock(0.0)
    gen = IdGenerator(0, clock)
    ids = gen.next_many(10)
    assert ids == sorted(set(ids))
    assert ids[0] >= 0


def test_ids_of_two_nodes_in_the_same_millisecond_differ() -> None:
    a = IdGenerator(1, FakeClock(T0)).next_many(100)
    b = IdGenerator(2, FakeClock(T0)).next_many(100)
    assert not set(a) & set(b)


def test_ids_fit_a_signed_64_bit_integer_until_2095() -> None:
    last_second = (EPOCH_MS + (1 << 41) - 1) / 1000
    message_id = IdGenerator(MAX_NODE_ID, FakeClock(last_second)).next()
    assert 0 < message_id < 2**63


def test_exhausted_time_field_raises_instead_of_wrapping() -> None:
    beyond = (EPOCH_MS + (1 << 41)) / 1000
    with pytest.raises(OverflowError):
        IdGenerator(1, FakeClock(beyond)).next()


@pytest.mark.parametrize("node_id", [-1, MAX_NODE_ID + 1])
def test_node_id_out_of_range_is_rejected(node_id: int) -> None:
    with pytest.raises(ValueError):
        IdGenerator(node_id)


def test_next_many_of_zero_is_empty_and_negative_is_an_error() -> None:
    gen = IdGenerator(1, FakeClock(T0))
    assert gen.next_many(0) == []
    with pytest.raises(ValueError):
        gen.next_many(-1)


def test_default_clock_is_wall_time() -> None:
    import time

    ms, node, _ = split_id(IdGenerator(9).next())
    assert node == 9
    assert abs((ms + EPOCH_MS) / 1000 - time.time()) < 5


@given(
    node_id=st.integers(0, MAX_NODE_ID),
    steps=st.lists(st.floats(min_value=-10.0, max_value=10.0), min_size=1, max_size=200),
    batch=st.integers(1, 5000),
)
def test_ids_strictly_increase_whatever_the_clock_does(
    node_id: int, steps: list[float], batch: int
) -> None:
    clock = FakeClock(T0)
    gen = IdGenerator(node_id, clock)
    ids: list[int] = []
    for step in steps:
        clock.now += step / 1000  # jitter of up to ±10 ms, backwards included
        ids.append(gen.next())
    ids.extend(gen.next_many(batch))
    assert all(a < b for a, b in itertools.pairwise(ids))
    assert all(split_id(i)[1] == node_id for i in ids)
    assert all(0 <= i < 2**63 for i in ids)


def test_next_many_is_what_as_many_next_calls_give_at_the_same_instant() -> None:
    for before, n in [(0, 1), (0, 50), (4000, 96), (4000, 97), (4095, 2), (10, 9000)]:
        batch, single = IdGenerator(3, FakeClock(T0)), IdGenerator(3, FakeClock(T0))
        for _ in range(before):
            batch.next()
            single.next()
        assert batch.next_many(n) == [single.next() for _ in range(n)]
        assert batch.next() == single.next()
