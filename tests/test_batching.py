"""The batching primitive: what goes in one batch and when, each caller's own result in order,
failures of one item and of a whole batch, size caps, a caller who stops waiting, and
draining and closing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest

from smsgate.batching import BatchQueue, QueueClosed, whole_batch

TIMEOUT = 5


class _Doubler:
    """A run that records its batches and answers each item with twice its value; `hold`
    keeps a batch running until released."""

    def __init__(self, hold: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.running = 0
        self.most_running = 0
        self.release = asyncio.Event()
        if not hold:
            self.release.set()

    async def __call__(self, items: list[int]) -> list[int | BaseException]:
        self.batches.append(list(items))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.release.wait()
        finally:
            self.running -= 1
        return [i * 2 for i in items]


async def test_items_of_one_loop_turn_are_one_batch_and_each_caller_gets_its_own_result() -> None:
    run = _Doubler()
    queue: BatchQueue[int, int] = BatchQueue(run)
    results = await asyncio.wait_for(asyncio.gather(*(queue.add(i) for i in range(10))), TIMEOUT)
    assert results == [i * 2 for i in range(10)]
    assert run.batches == [list(range(10))]


async def test_a_caller_queueing_again_the_moment_its_batch_ends_is_served() -> None:
    async def run(items: list[int]) -> list[int | BaseException]:
        return list(items)  # no await: the batch ends in the step that started it

    queue: BatchQueue[int, int] = BatchQueue(run)
    async with asyncio.timeout(TIMEOUT):
        for i in range(3):  # each add comes before the finished worker's done callbacks
            assert await queue.add(i) == i


async def test_items_within_the_delay_are_one_batch() -> None:
    run = _Doubler()
    queue: BatchQueue[int, int] = BatchQueue(run, delay=0.05)
    first = queue.add(0)
    for i in range(1, 4):  # three later loop turns, well within the delay
        await asyncio.sleep(0)
        queue.add(i)
    assert await asyncio.wait_for(first, TIMEOUT) == 0
    assert run.batches == [[0, 1, 2, 3]]


async def test_a_full_batch_goes_without_waiting_out_the_delay_and_caps_its_weight() -> None:
    run = _Doubler()
    queue: BatchQueue[int, int] = BatchQueue(run, delay=60, max_weight=10)
    results = await asyncio.wait_for(
        asyncio.gather(*(queue.add(i, weight=5) for i in range(4))), TIMEOUT
    )
    assert results == [0, 2, 4, 6]
    assert run.batches == [[0, 1], [2, 3]]


async def test_an_item_heavier_than_a_batch_goes_alone() -> None:
    run = _Doubler()
    queue: BatchQueue[int, int] = BatchQueue(run, max_weight=10)
    futures = [queue.add(1), queue.add(2, weight=50), queue.add(3)]
    assert await asyncio.wait_for(asyncio.gather(*futures), TIMEOUT) == [2, 4, 6]
    assert run.batches == [[1], [2], [3]]


async def test_items_arriving_during_a_batch_wait_for_it_and_go_together_in_order() -> None:
    run = _Doubler(hold=True)
    queue: BatchQueue[int, int] = BatchQueue(run)
    first = queue.add(0)
    await _until(lambda: run.running == 1)
    later = []
    for i in range(1, 6):  # five loop turns, five socket reads' worth
        later.append(queue.add(i))
        await asyncio.sleep(0)
    assert run.batches == [[0]]
    run.release.set()
    results = await asyncio.wait_for(asyncio.gather(first, *later), TIMEOUT)
    assert results == [0, 2, 4, 6, 8, 10]
    assert run.batches == [[0], [1, 2, 3, 4, 5]] and run.most_running == 1


async def test_without_a_running_limit_each_loop_turn_is_a_batch_of_its_own_at_once() -> None:
    run = _Doubler(hold=True)
    queue: BatchQueue[int, int] = BatchQueue(run, max_running=None)
    futures = [queue.add(0), queue.add(1)]
    await _until(lambda: run.running == 1)
    futures.append(queue.add(2))
    await _until(lambda: run.running == 2)
    run.release.set()
    assert await asyncio.wait_for(asyncio.gather(*futures), TIMEOUT) == [0, 2, 4]
    assert run.batches == [[0, 1], [2]]


async def test_more_than_a_batch_without_a_running_limit_goes_as_batches_side_by_side() -> None:
    run = _Doubler(hold=True)
    queue: BatchQueue[int, int] = BatchQueue(run, max_weight=2, max_running=None)
    futures = [queue.add(i) for i in range(5)]
    await _until(lambda: run.running == 3)
    run.release.set()
    assert await asyncio.wait_for(asyncio.gather(*futures), TIMEOUT) == [0, 2, 4, 6, 8]
    assert run.batches == [[0, 1], [2, 3], [4]]


async def test_one_failed_item_fails_its_caller_alone() -> None:
    async def run(items: list[int]) -> list[int | BaseException]:
        return [ValueError("bad") if i == 3 else i for i in items]

    queue: BatchQueue[int, int] = BatchQueue(run)
    results = await asyncio.wait_for(
        asyncio.gather(*(queue.add(i) for i in range(5)), return_exceptions=True), TIMEOUT
    )
    assert results[:3] == [0, 1, 2] and results[4] == 4
    assert isinstance(results[3], ValueError)


async def test_a_failed_batch_fails_each_of_its_callers_and_the_queue_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fail = True

    async def flush(items: Sequence[int]) -> None:
        if fail:
            raise RuntimeError("store down")

    queue: BatchQueue[int, None] = BatchQueue(whole_batch(flush), name="writes")
    results = await asyncio.wait_for(
        asyncio.gather(queue.add(1), queue.add(2), return_exceptions=True), TIMEOUT
    )
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    assert "writes: a batch of 2 items failed" in caplog.text
    fail = False
    assert await asyncio.wait_for(queue.add(3), TIMEOUT) is None


async def test_batches_failing_alike_are_one_line_with_a_traceback_and_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def flush(items: Sequence[int]) -> None:
        raise RuntimeError("database or disk is full")

    queue: BatchQueue[int, None] = BatchQueue(whole_batch(flush), name="accepts")
    for i in range(20):  # twenty batches, one after another, each failing
        with pytest.raises(RuntimeError):
            await asyncio.wait_for(queue.add(i), TIMEOUT)
    lines = [r for r in caplog.records if "a batch of 1 items failed" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].exc_info is not None and "disk is full" in caplog.text
    # Once the window has passed, the next failure is logged with how many were held back.
    queue._failures.every = 0.0
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(queue.add(20), TIMEOUT)
    assert "and 19 more like it" in caplog.text


async def test_posted_items_go_with_added_ones_and_their_failure_is_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[list[int]] = []

    async def run(items: list[int]) -> list[int | BaseException]:
        calls.append(list(items))
        return [RuntimeError("refused") if i == 99 else i for i in items]

    queue: BatchQueue[int, int] = BatchQueue(run, name="posted")
    queue.post(1)
    assert await asyncio.wait_for(queue.add(2), TIMEOUT) == 2
    queue.post(99)
    await asyncio.wait_for(queue.drain(), TIMEOUT)
    assert calls == [[1, 2], [99]]
    assert "posted: a posted item failed" in caplog.text


async def test_a_cancelled_waiter_stops_waiting_and_the_others_still_get_theirs() -> None:
    run = _Doubler(hold=True)
    queue: BatchQueue[int, int] = BatchQueue(run)
    futures = [queue.add(i) for i in range(3)]
    await _until(lambda: run.running == 1)
    futures[1].cancel()
    run.release.set()
    assert await asyncio.wait_for(futures[0], TIMEOUT) == 0
    assert await asyncio.wait_for(futures[2], TIMEOUT) == 4
    assert futures[1].cancelled() and run.batches == [[0, 1, 2]]


async def test_a_waiter_cancelled_before_its_batch_starts_does_not_drop_its_item() -> None:
    run = _Doubler()
    queue: BatchQueue[int, int] = BatchQueue(run, delay=0.01)
    gone, kept = queue.add(1), queue.add(2)
    gone.cancel()
    assert await asyncio.wait_for(kept, TIMEOUT) == 4
    assert run.batches == [[1, 2]]


async def test_withdrawn_posted_items_leave_the_queue_and_waited_ones_stay() -> None:
    run = _Doubler()
    queue: BatchQueue[int, int] = BatchQueue(run, delay=60)
    for i in range(6):
        queue.post(i)
    waited = queue.add(8)
    assert queue.withdraw(lambda i: i % 2 == 0) == [0, 2, 4]
    await asyncio.wait_for(queue.drain(), TIMEOUT)
    assert run.batches == [[1, 3, 5, 8]] and waited.result() == 16


async def test_drain_runs_what_is_queued_without_waiting_out_the_delay() -> None:
    run = _Doubler()
    queue: BatchQueue[int, int] = BatchQueue(run, delay=60)
    future = queue.add(7)
    await asyncio.wait_for(queue.drain(), TIMEOUT)
    assert run.batches == [[7]] and future.result() == 14
    later = queue.add(8)  # a drained queue still takes items
    await asyncio.wait_for(queue.drain(), TIMEOUT)
    assert later.result() == 16


async def test_close_runs_what_is_queued_then_refuses_new_items() -> None:
    run = _Doubler()
    queue: BatchQueue[int, int] = BatchQueue(run, delay=60)
    queued = [queue.add(i) for i in range(3)]
    await asyncio.wait_for(queue.close(), TIMEOUT)
    assert [f.result() for f in queued] == [0, 2, 4]
    with pytest.raises(QueueClosed):
        queue.add(3)
    with pytest.raises(QueueClosed):
        queue.post(3)


async def test_a_consumer_cancelled_mid_batch_tells_its_callers_and_close_the_rest() -> None:
    run = _Doubler(hold=True)
    queue: BatchQueue[int, int] = BatchQueue(run)
    running = queue.add(1)
    await _until(lambda: run.running == 1)
    waiting = queue.add(2)
    for task in asyncio.all_tasks():  # the loop shutting down
        if task.get_coro().__qualname__ == "BatchQueue._work":  # type: ignore[union-attr]
            task.cancel()
    with pytest.raises(QueueClosed):
        await asyncio.wait_for(running, TIMEOUT)
    await asyncio.wait_for(queue.close(), TIMEOUT)
    with pytest.raises(QueueClosed):
        await asyncio.wait_for(waiting, TIMEOUT)


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(TIMEOUT):
        while not condition():
            await asyncio.sleep(0.001)
