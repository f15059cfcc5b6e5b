"""The group-commit writer: batching, per-request failures, whole-batch failures, closing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from smsgate.store.group_commit import GroupCommit, WriterClosed


async def test_concurrent_requests_share_one_batch() -> None:
    batches: list[list[int]] = []

    async def run(reqs: Sequence[int]) -> list[int | BaseException]:
        batches.append(list(reqs))
        await asyncio.sleep(0.001)
        return [r * 2 for r in reqs]

    writer: GroupCommit[int, int] = GroupCommit(run, window=0.01)
    results = await asyncio.wait_for(asyncio.gather(*(writer.submit(i) for i in range(50))), 5)
    await writer.close()
    assert results == [i * 2 for i in range(50)]
    assert len(batches) <= 2 and sum(len(b) for b in batches) == 50


async def test_a_full_batch_closes_before_the_window() -> None:
    batches: list[int] = []

    async def run(reqs: Sequence[int]) -> list[int | BaseException]:
        batches.append(len(reqs))
        return list(reqs)

    writer: GroupCommit[int, int] = GroupCommit(run, window=10.0, max_weight=10)
    await asyncio.wait_for(asyncio.gather(*(writer.submit(i, weight=5) for i in range(4))), 5)
    await writer.close()
    assert batches == [2, 2]


async def test_one_failed_request_does_not_fail_the_others() -> None:
    async def run(reqs: Sequence[int]) -> list[int | BaseException]:
        return [ValueError("bad") if r == 3 else r for r in reqs]

    writer: GroupCommit[int, int] = GroupCommit(run)
    results = await asyncio.wait_for(
        asyncio.gather(*(writer.submit(i) for i in range(5)), return_exceptions=True), 5
    )
    await writer.close()
    assert results[:3] == [0, 1, 2] and results[4] == 4
    assert isinstance(results[3], ValueError)


async def test_a_failed_batch_fails_each_of_its_callers_and_the_writer_goes_on() -> None:
    calls = 0

    async def run(reqs: Sequence[int]) -> list[int | BaseException]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("disk full")
        return list(reqs)

    writer: GroupCommit[int, int] = GroupCommit(run)
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(writer.submit(1), 5)
    assert await asyncio.wait_for(writer.submit(2), 5) == 2
    await writer.close()


async def test_a_closed_writer_refuses_new_requests() -> None:
    async def run(reqs: Sequence[int]) -> list[int | BaseException]:
        return list(reqs)

    writer: GroupCommit[int, int] = GroupCommit(run)
    assert await asyncio.wait_for(writer.submit(1), 5) == 1
    await writer.close()
    with pytest.raises(WriterClosed):
        await writer.submit(2)
