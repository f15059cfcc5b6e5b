"""Linux inotify on one file, through libc: a descriptor that becomes readable when the file
is written, by any process. Nothing else in the standard library tells a process that another
one wrote a file without it asking again and again.

It only watches; what a write means is its caller's business. Elsewhere (or when the kernel
refuses another watch) `watch_writes` answers None and the caller polls.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
from pathlib import Path

_IN_MODIFY = 0x00000002
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


class FileWrites:
    """`fd` turns readable after the file is written; `drain()` reads the events queued so
    far, so it waits for the next write again. Close it when done."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while os.read(self.fd, 4096):
                pass

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def watch_writes(path: Path) -> FileWrites | None:
    """Writes to `path` (which must exist), or None where inotify is missing or refused
    (not Linux, the per-user limit of instances reached)."""
    if _LIBC is None:
        return None
    fd = int(_LIBC.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC))
    if fd < 0:
        return None
    if _LIBC.inotify_add_watch(fd, os.fsencode(path), _IN_MODIFY) < 0:
        os.close(fd)
        return None
    return FileWrites(fd)
