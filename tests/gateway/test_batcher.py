import asyncio
from collections.abc import Sequence

import pytest

from smsgate.gateway.batcher import Batcher


async def test_items_added_together_are_flushed_in_one_call() -> None:
    calls: list[list[int]] = []

    async def flush(items: Sequence[int]) -> None:
        calls.append(list(items))

    batcher = Batcher(flush, max_items=100, max_delay=0.01)
    await asyncio.wait_for(asyncio.gather(*(batcher.add(i) for i in range(10))), 2)
    assert calls == [list(range(10))]


async def test_a_full_batch_flushes_without_waiting_for_the_timer() -> None:
    calls: list[int] = []

    async def flush(items: Sequence[int]) -> None:
        calls.append(len(items))

    batcher = Batcher(flush, max_items=3, max_delay=60)
    await asyncio.wait_for(asyncio.gather(*(batcher.add(i) for i in range(6))), 2)
    assert calls == [3, 3]


async def test_a_failed_flush_fails_its_waiters_and_the_batcher_lives_on() -> None:
    fail = True

    async def flush(items: Sequence[int]) -> None:
        if fail:
            raise RuntimeError("store down")

    batcher = Batcher(flush, max_items=10, max_delay=0.001)
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(batcher.add(1), 2)
    fail = False
    await asyncio.wait_for(batcher.add(2), 2)


async def test_drain_flushes_what_is_queued() -> None:
    seen: list[int] = []

    async def flush(items: Sequence[int]) -> None:
        seen.extend(items)

    batcher = Batcher(flush, max_items=100, max_delay=60)
    future = batcher.add(7)
    await asyncio.wait_for(batcher.drain(), 2)
    assert seen == [7] and future.done()


async def test_posted_items_are_flushed_with_added_ones_and_a_failure_is_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[list[int]] = []

    async def flush(items: Sequence[int]) -> None:
        calls.append(list(items))
        if 99 in items:
            raise RuntimeError("store down")

    batcher = Batcher(flush, max_items=100, max_delay=0.001, name="posted")
    batcher.post(1)
    await asyncio.wait_for(batcher.add(2), 2)
    batcher.post(99)
    await asyncio.wait_for(batcher.drain(), 2)
    assert calls == [[1, 2], [99]]
    assert "posted flush of 1 items failed" in caplog.text


async def test_items_arriving_during_a_flush_wait_for_it_and_go_out_together() -> None:
    calls: list[list[int]] = []
    running = 0
    release = asyncio.Event()

    async def flush(items: Sequence[int]) -> None:
        nonlocal running
        running += 1
        assert running == 1, "two flushes at once"
        calls.append(list(items))
        if len(calls) == 1:
            await release.wait()
        running -= 1

    batcher = Batcher(flush, max_items=100, max_delay=0)
    first = batcher.add(0)
    await asyncio.sleep(0.01)  # the first flush is running and held
    later = []
    for i in range(1, 6):  # five loop turns, five socket reads' worth
        later.append(batcher.add(i))
        await asyncio.sleep(0)
    release.set()
    await asyncio.wait_for(asyncio.gather(first, *later), 2)
    assert calls == [[0], [1, 2, 3, 4, 5]]
    batcher.post(6)
    await asyncio.wait_for(batcher.drain(), 2)
    assert calls[-1] == [6]


async def test_withdrawn_items_leave_the_batch_and_waiters_forbid_it() -> None:
    calls: list[list[int]] = []

    async def flush(items: Sequence[int]) -> None:
        calls.append(list(items))

    batcher = Batcher(flush, max_items=100, max_delay=0.01)
    for i in range(6):
        batcher.post(i)
    assert batcher.withdraw(lambda i: i % 2 == 0) == [0, 2, 4]
    await asyncio.wait_for(batcher.drain(), 2)
    assert calls == [[1, 3, 5]]
    waited = batcher.add(9)
    with pytest.raises(RuntimeError):
        batcher.withdraw(lambda i: True)
    await asyncio.wait_for(waited, 2)
    assert calls == [[1, 3, 5], [9]]
