"""Failed password checks in memory: the LoginFailures role of MemoryStore."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from smsgate.store.memory.state import MemoryBase
from smsgate.store.records import LoginFailure


class MemoryLoginFailures(MemoryBase):
    async def login_failures(self, keys: Sequence[str]) -> dict[str, LoginFailure]:
        await asyncio.sleep(0)
        held = self.state.login_failures
        return {key: held[key] for key in keys if key in held}

    async def count_login_failure(
        self, keys: Sequence[str], now: float, forget_after: float
    ) -> dict[str, LoginFailure]:
        await asyncio.sleep(0)
        held = self.state.login_failures
        for key in [k for k, f in held.items() if f.last_at < now - forget_after]:
            if held[key].locked_until <= now:
                del held[key]
        counted = {}
        for key in dict.fromkeys(keys):
            before = held.get(key)
            if before is None:
                after = LoginFailure(1, now, 0.0)
            else:
                after = LoginFailure(before.count + 1, now, before.locked_until)
            held[key] = counted[key] = after
        return counted

    async def lock_login(self, key: str, until: float) -> None:
        await asyncio.sleep(0)
        before = self.state.login_failures.get(key)
        if before is not None and before.locked_until < until:
            self.state.login_failures[key] = LoginFailure(before.count, before.last_at, until)

    async def forget_login_failures(self, keys: Sequence[str]) -> None:
        await asyncio.sleep(0)
        for key in keys:
            self.state.login_failures.pop(key, None)
