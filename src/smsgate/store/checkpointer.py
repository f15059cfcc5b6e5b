"""WAL checkpoints off the writer's path.

By default SQLite checkpoints inside the COMMIT that pushes the WAL past 1,000 pages, so one
accept batch in every few dozen pays for copying the whole WAL into the database file
(measured: ~40 % of the writer's commit time with one-message transactions). The writer's
connection turns that off (`wal_autocheckpoint = 0`) and this thread runs PASSIVE checkpoints
on its own connection a few times a second instead: PASSIVE never blocks writers or readers,
the copy runs in SQLite's C code without the GIL, so it overlaps the writer on the other core.
It runs only after the writer has committed (`committed()`), and after a checkpoint that found
only a few frames (a node at rest renewing its leases) it rests a second before the next.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)


# A checkpoint that copied fewer frames than this was of a quiet writer: the next waits `rest`.
_FEW_FRAMES = 64


class WalCheckpointer:
    def __init__(self, path: Path, *, interval: float = 0.1, rest: float = 1.0) -> None:
        self._path = path
        self._interval = interval
        self._rest = rest
        self._stop = threading.Event()
        self._dirty = threading.Event()  # the writer committed since the last checkpoint
        self._thread: threading.Thread | None = None
        self.checkpoints = 0  # checkpoints run (for tests)

    def start(self) -> None:
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(
                target=self._run, name="smsgate-checkpoint", daemon=True
            )
            self._thread.start()

    def committed(self) -> None:
        """The writer committed: a checkpoint is due within `interval`."""
        if not self._dirty.is_set():  # the usual case under load: one check, no lock
            self._dirty.set()

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()  # wakes a thread waiting for the next commit
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        # Never dies of an error: the writer's connection does not checkpoint on its own, so
        # a stopped checkpointer would let the WAL grow without bound.
        conn: sqlite3.Connection | None = None
        wait = self._interval
        while not self._stop.wait(wait):
            self._dirty.wait()
            if self._stop.is_set():
                break
            self._dirty.clear()  # before the checkpoint: a commit during it sets it again
            try:
                if conn is None:
                    conn = sqlite3.connect(self._path, isolation_level=None)
                    conn.execute("PRAGMA busy_timeout = 0")  # busy: skip a turn, never wait
                busy, logged, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.checkpoints += 1
                wait = self._rest if logged < _FEW_FRAMES else self._interval
                if busy or copied < logged:
                    self._dirty.set()  # a reader held some frames back: the next turn copies them
            except sqlite3.Error as exc:  # the next turn tries again
                wait = self._interval
                self._dirty.set()
                log.debug("WAL checkpoint skipped: %s", exc)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            conn.close()
