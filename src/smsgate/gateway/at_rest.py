"""How a poller with nothing to do waits: for the store's sign that something was committed
(roles.Changes), for its own wake-up, or for a timeout, whichever comes first.

It decides nothing about what a commit means: the caller looks again and may find nothing.
It exists so an idle node costs no wakeups, where polling every few ms cost ~6 % of a core.
"""

from __future__ import annotations

import asyncio

from smsgate.store.roles import Changes


async def until_commit(
    store: Changes, seen: int | None, timeout: float, wake: asyncio.Event
) -> None:
    """Return once the store's data_version differs from `seen` (at once if `seen` is None),
    `wake` is set, or `timeout` seconds have passed. `wake` is left as it is."""
    if seen is None or wake.is_set() or timeout <= 0:
        return
    commit = asyncio.ensure_future(store.changed(seen, timeout))
    woken = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait((commit, woken), return_when=asyncio.FIRST_COMPLETED)
    finally:
        commit.cancel()
        woken.cancel()
