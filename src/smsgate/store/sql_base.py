"""The SQL store's shared ground: its engines, one write transaction per call through the
writer, reads on the reader pool, and the in-process state the role implementations share (the
expiry floor, the dedupe memory). Runs no queries of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from smsgate.store import migrate
from smsgate.store.dedupe_log import DedupeMemory
from smsgate.store.engine import Engines, create_engines
from smsgate.store.expiry_floor import ExpiryFloor
from smsgate.store.interface import StoreError
from smsgate.store.records import NewOutboxItem

T = TypeVar("T")

# A hot-path write of at most this many rows is brief (Writer.run): ~5 ms of work at most,
# which the SQLite writer may run on the event loop's thread rather than hand to its own. An
# accepted message costs ~27-32 µs and a claimed part ~9.5 µs (bench/store_accept.py): a claim
# counts a quarter of a row per part, so 512 parts take ~5 ms.
BRIEF_ROWS = 128
CLAIMS_PER_ROW = 4


def brief(rows: int | None) -> bool:
    return rows is not None and rows <= BRIEF_ROWS


class SqlBase:
    """What every role of the SQL store stands on; see SqlStore for the arguments."""

    def __init__(self, url: str, *, synchronous: str = "NORMAL", node_id: int = 0) -> None:
        self.url = url
        self.node_id = node_id
        self._synchronous = synchronous
        self._engines: Engines | None = None
        self._expiry = ExpiryFloor()
        self._dedupe = DedupeMemory()
        self._sweeping = asyncio.Lock()

    async def open(self) -> None:
        """Connect and apply migrations."""
        if self._engines is not None:
            return
        engines = create_engines(self.url, synchronous=self._synchronous)
        try:
            await migrate.upgrade(engines.writer)
        except BaseException:
            await engines.dispose()
            raise
        self._engines = engines

    async def close(self) -> None:
        engines, self._engines = self._engines, None
        if engines is not None:
            await engines.dispose()

    @property
    def engines(self) -> Engines:
        if self._engines is None:
            raise StoreError("the store is not open")
        return self._engines

    def data_version(self) -> int | None:
        engines = self._engines
        if engines is None or engines.commits is None:
            return None
        return engines.commits.version()

    async def changed(self, seen: int | None, timeout: float) -> None:
        engines = self._engines
        if engines is not None and engines.commits is not None:
            await engines.commits.changed(seen, timeout)

    async def _write(
        self, work: Callable[[Connection], T], *, urgent: bool = False, rows: int | None = None
    ) -> T:
        """Run `work` in one write transaction; a constraint it trips is the caller's error.
        `urgent`: a customer waits for it (Writer.run). `rows`: the size of a hot-path
        batch, in accepted messages' worth of writer time; a small one is brief (Writer.run)."""
        try:
            return await self.engines.writer.run(work, urgent=urgent, brief=brief(rows))
        except IntegrityError as exc:
            raise StoreError(str(exc.orig)) from exc

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engines.reader.connect() as conn:
            yield conn


def outbox_row(item: NewOutboxItem) -> tuple[object, ...]:
    """queue_outbox_item's parameters for one item."""
    status = None if item.status is None else item.status.value
    return (
        item.account_id,
        item.kind,
        item.message_id,
        status,
        item.error,
        item.payload,
        item.created_at,
        item.due_at,
    )
