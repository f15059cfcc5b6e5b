"""Duplicate detection without a random-order index.

A dedupe key is a hash, so an index on it takes every insert at a random leaf page: a batch of
800 accepts dirtied ~800 pages and wrote them all to the WAL at commit, more than half the
writer's cost per message (bench/RESULTS.md "Dedupe"). Instead every accepted message appends
(account, key, created_at) to `dedupe_log`, whose key `seq` only grows, and each node keeps the
keys of the window in memory, per account:

- inside the accept transaction, after the account rows are locked (so no other node is adding
  rows for them), the node reads the rows other nodes appended for those accounts since its
  last look (`seq > last_seq`), the whole window the first time it meets an account;
- it decides in memory, appends its own rows, and reads the account's newest `seq`;
- its own rows and that `seq` enter the memory only once the transaction has committed
  (`committed`), so a rolled-back batch leaves nothing behind.

Why per account and not one global `seq`: on PostgreSQL sequence values are handed out in call
order but become visible in commit order, so a global "seen up to" could step over a row that
commits later. Rows of one account are written only under that account's row lock, and a
later writer of it draws its `seq` after the earlier one committed, so per account nothing is
ever stepped over. On SQLite `seq` is AUTOINCREMENT: never reused, even after a rollback.

The log is pruned from its old end by `seq` (its primary key), a cheap front delete.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from smsgate.store.statements import (
    dedupe_append,
    dedupe_newest_seq,
    dedupe_prune,
    dedupe_since,
)

# Rows stay in the log this long past the widest window, so a node that reads the log late
# (clock skew between machines, a slow transaction) still finds what it needs.
RETENTION_MARGIN = 60.0
PRUNE_EVERY = 10.0

LogRow = tuple[int, bytes, float]  # account_id, dedupe_key, created_at


@dataclass(slots=True)
class _AccountKeys:
    last_seq: int = 0
    newest: dict[bytes, float] = field(default_factory=dict)
    order: deque[bytes] = field(default_factory=deque)  # insertion order ≈ time order

    def add(self, key: bytes, created_at: float) -> None:
        if created_at > self.newest.get(key, float("-inf")):
            self.newest[key] = created_at
            self.order.append(key)

    def expire(self, cutoff: float) -> None:
        # A key added again sits in `order` twice; its old place holds the walk until the
        # newer time lapses too. Memory is bounded by about two windows either way.
        newest, order = self.newest, self.order
        while order:
            created = newest.get(order[0])
            if created is not None and created >= cutoff:
                break
            key = order.popleft()
            if created is not None:
                del newest[key]


@dataclass(slots=True)
class Appended:
    """What a batch wrote, to enter the memory once its transaction has committed."""

    rows: list[LogRow]
    last_seq: dict[int, int]
    now: float


class DedupeMemory:
    """One node's view of the log. Used only from inside write transactions and their commit
    callbacks (the writer thread on SQLite; the event loop on PostgreSQL)."""

    def __init__(self) -> None:
        self._accounts: dict[int, _AccountKeys] = {}
        self._window = 0.0
        self._marks: deque[tuple[float, int]] = deque()  # (time, newest seq then)
        self._next_prune = 0.0

    def catch_up(
        self, conn: Connection, account_ids: Iterable[int], now: float, window: float
    ) -> None:
        """Read what other nodes appended for these (locked) accounts since the last look."""
        self._window = max(self._window, window)
        cutoff = now - self._window
        for account_id in account_ids:
            keys = self._accounts.get(account_id)
            if keys is None:
                keys = self._accounts[account_id] = _AccountKeys()
            rows = dedupe_since.rows(conn, account_id, keys.last_seq)
            for _seq, key, created_at in rows:
                if created_at >= cutoff:
                    keys.add(bytes(key), created_at)
            if rows:
                keys.last_seq = max(keys.last_seq, rows[-1][0])
            keys.expire(cutoff)

    def newest(self, account_id: int, key: bytes) -> float | None:
        """The newest created_at of this key known to be committed, or None."""
        keys = self._accounts.get(account_id)
        return None if keys is None else keys.newest.get(key)

    def append(self, conn: Connection, rows: Sequence[LogRow], now: float) -> Appended:
        """Write this batch's rows into the log, inside its transaction."""
        dedupe_append.run(conn, rows)
        last_seq: dict[int, int] = {}
        for account_id in sorted({r[0] for r in rows}):
            (newest,) = dedupe_newest_seq.rows(conn, account_id)[0]
            last_seq[account_id] = int(newest)
        if rows and now >= self._next_prune:
            self._prune(conn, now)
        return Appended(list(rows), last_seq, now)

    def committed(self, appended: Appended) -> None:
        for account_id, key, created_at in appended.rows:
            keys = self._accounts.get(account_id)
            if keys is None:
                keys = self._accounts[account_id] = _AccountKeys()
            keys.add(key, created_at)
        for account_id, seq in appended.last_seq.items():
            keys = self._accounts[account_id]
            keys.last_seq = max(keys.last_seq, seq)
        if appended.last_seq:
            self._marks.append((appended.now, max(appended.last_seq.values())))

    def _prune(self, conn: Connection, now: float) -> None:
        """Delete log rows older than the window plus a margin; forget idle accounts' keys."""
        self._next_prune = now + PRUNE_EVERY
        horizon = now - self._window - RETENTION_MARGIN
        below: int | None = None
        while self._marks and self._marks[0][0] < horizon:
            below = self._marks.popleft()[1]
        if below is not None:
            dedupe_prune.run(conn, below)
        cutoff = now - self._window
        for keys in self._accounts.values():
            keys.expire(cutoff)
