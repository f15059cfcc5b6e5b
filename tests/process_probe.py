"""What a node process under test holds, read from /proc (Linux): its resident memory and its open
descriptors, sampled by a thread while a hostile client works, so a test can bound the peaks and
check they come back. Reading never fails on a descriptor the node closes meanwhile.

Descriptors are counted without the files on disk: the store opens its database files again for
each reader connection its pool adds, which a client cannot make grow; sockets, pipes and event
descriptors are what a client's connection could leak.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path
from types import TracebackType


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = [x for x in status.splitlines() if x.startswith("VmRSS:")]
    return int(line.split()[1]) / 1024


def descriptors(pid: int) -> list[str]:
    """What each open descriptor of `pid` points at (`socket:[...]`, a path, `pipe:[...]`).
    One closed between the listing and its readlink is simply not there: the node closes
    connections all the time, and that race is not a failure of the node."""
    fds = f"/proc/{pid}/fd"
    targets = []
    for fd in os.listdir(fds):
        try:
            targets.append(os.readlink(f"{fds}/{fd}"))
        except FileNotFoundError:
            continue
    return targets


def held(pid: int) -> int:
    """Open descriptors that are not files on disk (see the module's docstring)."""
    return sum(not target.startswith("/") for target in descriptors(pid))


def held_kinds(pid: int) -> Counter[str]:
    """The descriptors `held` counts, by kind (`socket`, `pipe`, `anon_inode:inotify`...): what
    a failure message names when they do not come back."""
    return Counter(
        target.split(":[")[0] for target in descriptors(pid) if not target.startswith("/")
    )


def wait_settled(pid: int, quiet: float = 1.0, timeout: float = 30.0) -> None:
    """Return once `pid` has held the same descriptors (by kind) for `quiet` seconds. A node
    that answers already may still open what it keeps for its life (the store's commit watch
    opens its inotify descriptor at its first wait, later on a loaded machine): a test that
    bounds a client's descriptors takes its baseline after that, not before."""
    deadline = time.monotonic() + timeout
    seen = held_kinds(pid)
    since = time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            raise AssertionError(f"descriptors of {pid} still changing after {timeout} s: {seen}")
        time.sleep(0.05)
        now = held_kinds(pid)
        if now != seen:
            seen, since = now, time.monotonic()


def sockets(pid: int) -> int:
    """The node's open sockets: its listeners, binds and client connections."""
    return sum(target.startswith("socket:") for target in descriptors(pid))


class Peaks:
    """`with Peaks(pid) as peaks:` samples the process every `every` seconds; afterwards
    `peaks.rss_growth` (MB above the start) and `peaks.fd_growth` (descriptors above the
    start, files on disk aside) are the largest seen, the sample at the exit included."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid = pid
        self.every = every
        self.rss_before = rss_mb(pid)
        self.kinds_before = held_kinds(pid)
        self.fds_before = sum(self.kinds_before.values())
        self.rss_peak = self.rss_before
        self.fds_peak = self.fds_before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    @property
    def rss_growth(self) -> float:
        return self.rss_peak - self.rss_before

    @property
    def fd_growth(self) -> int:
        return self.fds_peak - self.fds_before

    def sample(self) -> None:
        self.rss_peak = max(self.rss_peak, rss_mb(self.pid))
        self.fds_peak = max(self.fds_peak, held(self.pid))

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample()
            except (FileNotFoundError, ProcessLookupError):
                return  # the process ended: the test says so on its own
            time.sleep(self.every)

    def __enter__(self) -> Peaks:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        if kind is None:
            self.sample()

    def __str__(self) -> str:
        """The peaks, and the descriptors held now beyond the start, by kind."""
        try:
            grown = dict(held_kinds(self.pid) - self.kinds_before)
        except (FileNotFoundError, ProcessLookupError):
            grown = {}
        return (
            f"RSS {self.rss_before:.0f} -> {self.rss_peak:.0f} MB, "
            f"descriptors {self.fds_before} -> {self.fds_peak}, more now: {grown}"
        )
