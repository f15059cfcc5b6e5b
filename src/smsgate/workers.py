"""`smsgate serve --workers N`: N node processes on one machine, one database, one HTTP port.

The parent binds the HTTP listening socket once and every worker inherits it; the parent only
supervises (restarts a worker that dies, stops all on SIGTERM/SIGINT) and never serves.

Why one inherited socket rather than SO_REUSEPORT per worker: a bind error (port taken) shows
once, in the parent, before any worker starts; port 0 works (tests); and connections waiting in
the accept queue belong to the socket, so a worker killed with SIGKILL drops none of them, while
a SO_REUSEPORT socket's queue dies with its worker. Accepting is spread by the kernel's wakeups
rather than by hash, which is even enough for N close to the core count.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.context import SpawnProcess
from types import FrameType

from smsgate.config import Settings

log = logging.getLogger(__name__)

_RESTART_PAUSE = 1.0  # a worker that dies at once is not restarted in a hot loop
_STOP_TIMEOUT = 20.0  # seconds a worker gets to finish in flight work after SIGTERM


def worker_count(value: str) -> int:
    """'auto' is one worker per core; otherwise a positive number."""
    if value == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    try:
        count = int(value)
    except ValueError:
        raise ValueError(f"--workers must be a number or auto, not {value!r}") from None
    if count < 1:
        raise ValueError(f"--workers must be at least 1, not {count}")
    return count


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket for every worker to accept on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def worker_settings(settings: Settings, slot: int, supervisor_pid: int) -> Settings:
    """One worker's settings: a lease holder name of its own that a restart of the same slot
    reuses (so it takes back its node id and connectors at once, and releases its old claims),
    and the SMPP door on slot 0 only (the door binds its own port; see the module notes)."""
    holder = settings.node.holder or f"{socket.gethostname()}:{supervisor_pid}:w{slot}"
    update: dict[str, object] = {
        "node": settings.node.model_copy(update={"holder": holder}),
        "node_id": settings.node_id + slot,
    }
    if slot > 0:
        update["smpp"] = settings.smpp.model_copy(update={"enabled": False})
    return settings.model_copy(update=update)


def _run_worker(settings: Settings, http_socket: socket.socket) -> None:
    import asyncio

    from smsgate.node import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    try:
        code = asyncio.run(serve(settings, http_socket=http_socket))
    except KeyboardInterrupt:
        code = 0
    sys.exit(code)


@dataclass
class Supervisor:
    """`run()` starts `count` workers and returns the exit status once they are all stopped."""

    settings: Settings
    count: int
    restarts: int = 0
    _workers: dict[int, SpawnProcess] = field(default_factory=dict)
    _stopping: bool = False

    def run(self) -> int:
        http = listen(self.settings.http.host, self.settings.http.port)
        port = http.getsockname()[1]
        context = multiprocessing.get_context("spawn")
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        started_at: dict[int, float] = {}
        try:
            print(
                f"smsgate: {self.count} workers on http://{self.settings.http.host}:{port}",
                flush=True,
            )
            while not self._stopping:
                for slot in range(self.count):
                    proc = self._workers.get(slot)
                    if proc is not None and proc.is_alive():
                        continue
                    if proc is not None:
                        log.warning("worker %d exited with %s: restarting", slot, proc.exitcode)
                        self.restarts += 1
                        if time.monotonic() - started_at[slot] < _RESTART_PAUSE:
                            time.sleep(_RESTART_PAUSE)
                        if self._stopping:
                            break
                    settings = worker_settings(self.settings, slot, os.getpid())
                    proc = context.Process(
                        target=_run_worker, args=(settings, http), name=f"smsgate-worker-{slot}"
                    )
                    proc.start()
                    self._workers[slot] = proc
                    started_at[slot] = time.monotonic()
                wait([p.sentinel for p in self._workers.values()], timeout=0.5)
        finally:
            self._stop_all()
            http.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _stop_all(self) -> None:
        for proc in self._workers.values():
            if proc.is_alive():
                proc.terminate()
        deadline = time.monotonic() + _STOP_TIMEOUT
        for proc in self._workers.values():
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                log.error("worker %s did not stop in time: killing it", proc.name)
                proc.kill()
                proc.join(5)
