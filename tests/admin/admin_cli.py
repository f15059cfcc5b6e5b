"""Driving the admin CLI against a real SqlStore on a temporary SQLite file: `admin(...)` runs
one command the way an operator would (SMSGATE_DATABASE__URL in the environment), and
`admin.store(...)` opens the same database afterwards to check what the command left there.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from typer.testing import CliRunner, Result

from smsgate.admin import app
from smsgate.store.sql_store import SqlStore

T = TypeVar("T")
STORE_TIMEOUT = 10.0
TOKEN_LINE = re.compile(r"API token \(shown once, store it now\): (\S+)")


@dataclass
class Admin:
    url: str
    runner: CliRunner

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        # catch_exceptions=False: a traceback anywhere fails the test instead of hiding in it.
        # --create: each test starts from a fresh file (the refusal has its own tests).
        return self.runner.invoke(
            app,
            ["--create", *args],
            env={"SMSGATE_DATABASE__URL": self.url, "COLUMNS": "200", **(env or {})},
            catch_exceptions=False,
        )

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def refused(self, *args: str, code: int = 1) -> str:
        """Run a command that must fail cleanly; return its one-line message."""
        result = self(*args)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert lines and lines[-1].startswith("error: "), result.stderr
        assert "Traceback" not in result.stderr
        return lines[-1]

    def store(self, work: Callable[[SqlStore], Awaitable[T]]) -> T:
        async def go() -> T:
            store = SqlStore(self.url)
            await asyncio.wait_for(store.open(), STORE_TIMEOUT)
            try:
                return await asyncio.wait_for(work(store), STORE_TIMEOUT)
            finally:
                await asyncio.wait_for(store.close(), STORE_TIMEOUT)

        return asyncio.run(go())

    def account_id(self, login: str) -> int:
        async def work(store: SqlStore) -> int:
            creds = await store.credentials(login)
            assert creds is not None, login
            return creds.account.id

        return self.store(work)


def token_in(result: Result) -> str:
    match = TOKEN_LINE.search(result.stdout)
    assert match is not None, result.stdout
    return match.group(1)
