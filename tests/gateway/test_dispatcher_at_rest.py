"""The dispatcher at rest: with a store that tells of commits (roles.Changes), an empty claim
is followed by no other until something is committed, and a commit wakes it at once; stop()
ends a rest at once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

from smsgate.gateway.dispatcher import Dispatcher, DispatchPolicy
from smsgate.gateway.router import Route, Router

from .test_dispatcher import FakeOperator, RecordingStore

# Long enough that only a commit can explain a claim within a test's deadline.
NEVER = 600.0


class CommittingStore(RecordingStore):
    """The memory store with a version bumped by every accept, as SQLite's data_version is
    by any commit; it counts every claim, empty ones too."""

    def __init__(self) -> None:
        super().__init__()
        self.version = 0
        self.bumped = asyncio.Event()
        self.tries = 0

    def data_version(self) -> int | None:
        return self.version

    async def changed(self, seen: int | None, timeout: float) -> None:
        if seen != self.version:
            return
        self.bumped.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.bumped.wait(), timeout)

    async def queue(self, phones: Sequence[str]) -> None:
        await super().queue(phones)
        self.version += 1
        self.bumped.set()

    async def claim_parts(self, node_id: int, now: float, limit: int, claim_ttl: float):  # type: ignore[no-untyped-def]
        self.tries += 1
        return await super().claim_parts(node_id, now, limit, claim_ttl)


def dispatcher(store: CommittingStore, operator: FakeOperator) -> Dispatcher:
    policy = DispatchPolicy(idle_claim_every=NEVER, idle_expire_every=NEVER)
    router = Router([Route("380", ("op",))], [operator])
    return Dispatcher(store, router, [operator], node_id=1, policy=policy)


async def poll(condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        await asyncio.sleep(0.01)


async def test_at_rest_it_claims_again_only_after_a_commit_and_then_at_once() -> None:
    store = CommittingStore()
    operator = FakeOperator()
    running = dispatcher(store, operator)
    task = asyncio.ensure_future(running.run())
    try:
        await poll(lambda: store.tries >= 1)
        await asyncio.sleep(0.3)  # thirty idle_sleeps: polling would have claimed ~30 times
        assert store.tries == 1
        started = time.monotonic()
        await store.queue(["380501234568"])
        await poll(lambda: len(store.done) == 1)
        assert time.monotonic() - started < 5  # the commit woke it, not idle_claim_every
    finally:
        await asyncio.wait_for(running.stop(), 10)
        task.cancel()


async def test_stop_ends_a_rest_at_once() -> None:
    store = CommittingStore()
    running = dispatcher(store, FakeOperator())
    task = asyncio.ensure_future(running.run())
    await poll(lambda: store.tries >= 1)
    started = time.monotonic()
    await asyncio.wait_for(running.stop(timeout=NEVER), 10)
    assert time.monotonic() - started < 5
    assert task.done() or await asyncio.wait_for(task, 5) is None


async def test_a_store_that_cannot_tell_is_polled_as_before() -> None:
    store = RecordingStore()  # data_version() is None
    operator = FakeOperator()
    running = dispatcher(store, operator)  # type: ignore[arg-type]
    task = asyncio.ensure_future(running.run())
    try:
        await asyncio.sleep(0.05)
        await store.queue(["380501234568"])  # no sign of it: found by the next poll
        await poll(lambda: len(store.done) == 1, 5)
    finally:
        await asyncio.wait_for(running.stop(), 10)
        task.cancel()
