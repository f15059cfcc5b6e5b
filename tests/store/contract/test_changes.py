"""roles.Changes: a store either tells that another node committed (SQLite: data_version
moves and changed() returns), or says it cannot (None), and then changed() never holds a
caller back. A caller at rest relies on one or the other."""

from __future__ import annotations

import asyncio
import time

from smsgate.store.interface import Store


async def test_a_commit_by_another_node_moves_the_version_or_the_store_cannot_tell(
    store: Store, second_store: Store
) -> None:
    seen = store.data_version()
    waiting = asyncio.ensure_future(store.changed(seen, 30.0))
    await asyncio.sleep(0.05)
    if seen is None:
        assert waiting.done()  # no sign to wait for: it returns at once
        return
    assert not waiting.done()  # nothing committed yet
    started = time.monotonic()
    assert await second_store.take_lease("rest-test", "other", time.time(), 10)
    await asyncio.wait_for(waiting, 10)
    assert time.monotonic() - started < 5  # woken by the commit, not by its 30 s timeout
    assert store.data_version() != seen


async def test_changed_returns_after_its_timeout_when_nothing_is_committed(store: Store) -> None:
    seen = store.data_version()
    started = time.monotonic()
    await asyncio.wait_for(store.changed(seen, 0.2), 10)
    assert time.monotonic() - started < 5
    if seen is not None:
        assert time.monotonic() - started >= 0.15
        assert store.data_version() == seen


async def test_a_version_already_moved_returns_at_once(store: Store, second_store: Store) -> None:
    seen = store.data_version()
    assert await second_store.take_lease("rest-test", "other", time.time(), 10)
    started = time.monotonic()
    await asyncio.wait_for(store.changed(seen, 30.0), 10)
    assert time.monotonic() - started < 5
