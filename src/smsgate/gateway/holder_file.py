"""The lease holder name a node keeps across restarts on one machine: written to a file in the
node's state directory and locked (flock) for as long as the node runs.

A node restarted after kill -9 finds the file unlocked (the kernel dropped the dead process's
lock with it), takes the name back, and so renews its own `node:<id>` lease at once instead of
waiting out the ttl. A second live process with the same state directory finds the file locked
and gets None: it must make up a fresh name, so two live processes never share a holder (and
never a node id). Nothing here talks to the database.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


class HolderFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self.locked_elsewhere = False  # set by claim(): another live process holds the file

    def claim(self, fresh: str) -> str | None:
        """The name kept in the file (or `fresh`, written there when it holds none), locked
        for this process; None when another live process holds the lock, or the file cannot
        be used (then the node falls back to a fresh name, and to waiting out its old lease)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            log.info(
                "no holder file at %s (%s): a restart waits out its node lease", self.path, exc
            )
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            self.locked_elsewhere = True  # a live process on this machine holds it
            return None
        try:
            kept = os.read(fd, 512).decode("utf-8", "replace").strip()
            if not kept or "\n" in kept:
                kept = fresh
                os.ftruncate(fd, 0)
                os.pwrite(fd, kept.encode() + b"\n", 0)
                os.fsync(fd)
        except OSError as exc:
            log.info("cannot use holder file %s (%s)", self.path, exc)
            os.close(fd)
            return None
        self._fd = fd
        return kept

    def release(self) -> None:
        """Unlock (the name stays in the file for the next start)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
