"""WAL checkpoints off the writer's path.

By default SQLite checkpoints inside the COMMIT that pushes the WAL past 1,000 pages, so one
accept batch in every few dozen pays for copying the whole WAL into the database file
(measured: ~40 % of the writer's commit time with one-message transactions). The writer's
connection turns that off (`wal_autocheckpoint = 0`) and this thread runs PASSIVE checkpoints
on its own connection a few times a second instead: PASSIVE never blocks writers or readers,
the copy runs in SQLite's C code without the GIL, so it overlaps the writer on the other core.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class WalCheckpointer:
    def __init__(self, path: Path, *, interval: float = 0.1) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(
                target=self._run, name="smsgate-checkpoint", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        # Never dies of an error: the writer's connection does not checkpoint on its own, so
        # a stopped checkpointer would let the WAL grow without bound.
        conn: sqlite3.Connection | None = None
        while not self._stop.wait(self._interval):
            try:
                if conn is None:
                    conn = sqlite3.connect(self._path, isolation_level=None)
                    conn.execute("PRAGMA busy_timeout = 0")  # busy: skip a turn, never wait
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:  # the next turn tries again
                log.debug("WAL checkpoint skipped: %s", exc)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            conn.close()
