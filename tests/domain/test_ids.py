import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgate.domain.ids import (
    EPOCH_TICKS,
    IDS_PER_TICK,
    MAX_ID,
    MAX_NODE_ID,
    TICKS_PER_SECOND,
    IdGenerator,
    first_id_at,
    split_id,
)

TICK = 1 / TICKS_PER_SECOND
# Some time after the epoch, in seconds: the middle of a tick, so float steps of a tick land
# in the tick they mean.
T0 = (EPOCH_TICKS + 1_000_000.5) / TICKS_PER_SECOND


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def fresh(node_id: int, clock: FakeClock) -> IdGenerator:
    """A generator that starts on its clock's tick (no restart margin)."""
    return IdGenerator(node_id, clock, restart_margin=0)


def test_id_carries_ticks_node_and_sequence() -> None:
    gen = fresh(5, FakeClock(T0))
    assert split_id(gen.next()) == (1_000_000, 5, 0)
    assert split_id(gen.next()) == (1_000_000, 5, 1)


def test_every_id_fits_in_2_to_the_53_minus_1_until_2069() -> None:
    from datetime import UTC, datetime

    assert MAX_ID == 2**53 - 1
    last_tick = (1 << 37) - 1
    last_second = (EPOCH_TICKS + last_tick) / TICKS_PER_SECOND
    assert datetime.fromtimestamp(last_second, UTC).year == 2069
    ids = fresh(MAX_NODE_ID, FakeClock(last_second)).next_many(IDS_PER_TICK)
    assert ids[-1] == MAX_ID


def test_epoch_is_first_of_january_2026_utc() -> None:
    from datetime import UTC, datetime

    assert datetime(2026, 1, 1, tzinfo=UTC).timestamp() * TICKS_PER_SECOND == EPOCH_TICKS


def test_a_new_generator_starts_a_restart_margin_ahead_of_its_clock() -> None:
    clock = FakeClock(T0)
    before = fresh(4, clock).next_many(IDS_PER_TICK * 50)  # a burst: half a second ahead
    after_restart = IdGenerator(4, clock, restart_margin=1.0).next()
    assert split_id(after_restart)[0] == 1_000_000 + TICKS_PER_SECOND
    assert after_restart > max(before)


def test_new_tick_resets_sequence() -> None:
    clock = FakeClock(T0)
    gen = fresh(1, clock)
    gen.next()
    gen.next()
    clock.now += TICK
    assert split_id(gen.next())[2] == 0


def test_sequence_overflow_borrows_the_next_tick_without_waiting() -> None:
    gen = fresh(3, FakeClock(T0))
    ids = gen.next_many(IDS_PER_TICK * 3 + 1)
    assert ids == sorted(set(ids))
    assert split_id(ids[IDS_PER_TICK - 1]) == (1_000_000, 3, IDS_PER_TICK - 1)
    assert split_id(ids[IDS_PER_TICK]) == (1_000_001, 3, 0)
    assert split_id(ids[-1]) == (1_000_003, 3, 0)


def test_two_hundred_thousand_ids_a_second_stay_on_the_clock() -> None:
    clock = FakeClock(T0)
    gen = fresh(2, clock)
    for _ in range(TICKS_PER_SECOND):
        gen.next_many(2_000)
        clock.now += TICK
    assert split_id(gen.next())[0] == 1_000_000 + TICKS_PER_SECOND


def test_clock_going_backwards_never_repeats_or_shrinks_an_id() -> None:
    clock = FakeClock(T0)
    gen = fresh(2, clock)
    first = gen.next()
    clock.now -= 5.0
    second = gen.next()
    assert second > first
    clock.now = T0 + 2 * TICK
    assert gen.next() > second


def test_clock_before_epoch_still_gives_increasing_ids() -> None:
    clock = FakeClock(0.0)
    gen = IdGenerator(0, clock)
    ids = gen.next_many(10)
    assert ids == sorted(set(ids))
    assert ids[0] >= 0


def test_ids_of_two_nodes_in_the_same_tick_differ() -> None:
    a = IdGenerator(1, FakeClock(T0)).next_many(100)
    b = IdGenerator(2, FakeClock(T0)).next_many(100)
    assert not set(a) & set(b)


def test_ids_of_the_earlier_18_digit_layout_never_meet_new_ones() -> None:
    # The earlier layout: milliseconds since 2026-01-01 << 22; its ids minted from
    # 2026-01-25 on (every stored one) are above the new range.
    earliest_old = (24 * 86_400_000 + 21 * 3_600_000) << 22
    assert earliest_old > MAX_ID


def test_exhausted_time_field_raises_instead_of_wrapping() -> None:
    beyond = (EPOCH_TICKS + (1 << 37)) / TICKS_PER_SECOND
    with pytest.raises(OverflowError):
        fresh(1, FakeClock(beyond)).next()


@pytest.mark.parametrize("node_id", [-1, MAX_NODE_ID + 1])
def test_node_id_out_of_range_is_rejected(node_id: int) -> None:
    with pytest.raises(ValueError):
        IdGenerator(node_id)


def test_negative_restart_margin_is_rejected() -> None:
    with pytest.raises(ValueError):
        IdGenerator(1, restart_margin=-1)


def test_next_many_of_zero_is_empty_and_negative_is_an_error() -> None:
    gen = IdGenerator(1, FakeClock(T0))
    assert gen.next_many(0) == []
    with pytest.raises(ValueError):
        gen.next_many(-1)


def test_default_clock_is_wall_time_plus_the_restart_margin() -> None:
    import time

    ticks, node, _ = split_id(IdGenerator(9).next())
    assert node == 9
    assert abs((ticks + EPOCH_TICKS) / TICKS_PER_SECOND - 1.0 - time.time()) < 5


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
    assert all(0 <= i <= MAX_ID for i in ids)


@settings(deadline=None)
@given(
    nodes=st.lists(st.integers(0, MAX_NODE_ID), min_size=2, max_size=4, unique=True),
    lives=st.lists(
        st.tuples(st.integers(0, 30_000), st.floats(min_value=0.2, max_value=3.0)),
        min_size=1,
        max_size=4,
    ),
)
def test_ids_are_unique_across_nodes_and_restarts(
    nodes: list[int], lives: list[tuple[int, float]]
) -> None:
    """Each node lives several short lives: a burst of ids at once (up to 15 ticks beyond the
    restart margin), then a restart after a pause (a node takes longer than 0.2 s to start), the
    clock stepping forward only by the pause."""
    seen: set[int] = set()
    minted = 0
    for node_id in nodes:
        clock = FakeClock(T0)
        for burst, pause in lives:
            ids = IdGenerator(node_id, clock).next_many(burst)
            seen.update(ids)
            minted += len(ids)
            clock.now += pause
    assert len(seen) == minted


def test_next_many_is_what_as_many_next_calls_give_at_the_same_instant() -> None:
    size = IDS_PER_TICK
    for before, n in [(0, 1), (0, 50), (size - 96, 96), (size - 96, 97), (size - 1, 2), (10, 9000)]:
        batch, single = IdGenerator(3, FakeClock(T0)), IdGenerator(3, FakeClock(T0))
        for _ in range(before):
            batch.next()
            single.next()
        assert batch.next_many(n) == [single.next() for _ in range(n)]
        assert batch.next() == single.next()


@given(st.floats(min_value=1_767_225_601, max_value=3_000_000_000))
def test_first_id_at_bounds_every_id_minted_from_then(now: float) -> None:
    minted = IdGenerator(3, clock=lambda: now, restart_margin=0).next()
    assert first_id_at(now) <= minted < first_id_at(now + 0.02)


def test_first_id_at_is_clamped() -> None:
    assert first_id_at(0) == 0
    assert first_id_at(1e12) == MAX_ID + 1
