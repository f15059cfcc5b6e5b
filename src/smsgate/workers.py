"""`smsgate serve --workers N`: N node processes on one machine, one database, one HTTP port.

The parent binds the HTTP port once and every worker inherits a listening socket; the parent
only supervises (restarts a worker that dies, stops all on SIGTERM/SIGINT) and never serves.

On Linux each worker slot gets a socket of its own in one SO_REUSEPORT group, so the kernel
spreads new connections evenly over the workers by their addresses. One socket shared by all
(the fallback elsewhere) leaves the spreading to whichever worker's loop wakes first, and that
one accepts everything queued: under wrk's 32 keep-alive connections one worker gets ~29 of
them and the other ~3 (bench/workers.py), so one core serves while the other
idles.

What the shared socket gave is kept: the parent binds every socket before any worker starts, so
a port taken (by anything, another smsgate group of the same user included: a plain bind is
tried first) is one error in the parent; port 0 works (tests); and the parent holds every
socket for its whole life, so a worker killed with SIGKILL drops none of the connections queued
on its socket: its restart in the same slot accepts them. What is lost: while a worker is down,
the connections the kernel hashes to its socket wait for the restart instead of going to the
others.

Workers never outlive the supervisor: one killed with SIGKILL takes its workers with it
(PR_SET_PDEATHSIG on Linux, a watch on the parent elsewhere), as kill -9 of a single node
would. Left running, they would hold the port, so a new supervisor could not start. Each
worker keeps its lease holder name in its node id's holder file (gateway/holder_file.py), so
a new supervisor's workers take back their node ids and connectors at once instead of
waiting out the old leases.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.context import SpawnProcess
from types import FrameType

from smsgate.config import Settings
from smsgate.event_loop import install_uvloop
from smsgate.metrics_listener import MetricsListener
from smsgate.metrics_merge import collect_workers

log = logging.getLogger(__name__)

_RESTART_PAUSE = 1.0  # a worker that dies at once is not restarted in a hot loop
_STOP_MARGIN = 10.0  # seconds past [node] drain_timeout before a stopping worker is killed
_PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


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


def listen(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket for workers to accept on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """One listening socket per worker slot, all on one port (see the module notes); without
    SO_REUSEPORT's balancing (not Linux) the same shared socket for every slot."""
    if count == 1 or not sys.platform.startswith("linux"):
        return [listen(host, port)] * count
    if port:
        # A plain bind fails on any listener, where SO_REUSEPORT would join another group.
        listen(host, port).close()
    first = listen(host, port, reuse_port=True)
    group = [first]
    try:
        for _ in range(count - 1):
            group.append(listen(host, first.getsockname()[1], reuse_port=True))
    except OSError:
        for sock in group:
            sock.close()
        raise
    return group


def worker_settings(settings: Settings, slot: int, count: int = 1) -> Settings:
    """One worker's settings: a node id of its own (the base plus the slot), whose holder file
    gives a restart of the slot, or of the whole supervisor, the same lease holder name (so it
    takes back its node id and connectors at once, and releases its old claims); and the SMPP
    door on slot 0 only (the door binds its own port; see the module notes). A configured
    holder name gets the slot appended: two workers must never share one.

    With other workers beside it, slot 0 leaves the operator connectors to them first. It
    already does the customers' half of every SMPP message (submit_sm in, receipts out); the
    operators' half (dispatch, receipts in) on the same process puts both on one GIL and one
    core: ~3,000 msg/s end to end over the door with both on slot 0, ~4,100-4,700 with the
    connector on slot 1 (bench/smpp_door.py --workers 2). If no other worker takes a connector
    within one lease round, slot 0 does. The HTTP callbacks and webhooks go the other way:
    the other slots leave them to slot 0 for a second, so the slot with the connector does
    not also carry them (bench/peers.py --peers smsgate-w2)."""
    node_update: dict[str, object] = {}
    if settings.node.holder:
        node_update["holder"] = f"{settings.node.holder}:w{slot}"
    if count > 1 and settings.smpp.enabled:
        node_update["defer_connectors" if slot == 0 else "defer_callbacks"] = True
    node_update["cpu"] = worker_cpu(settings, slot, count)
    update: dict[str, object] = {
        "node": settings.node.model_copy(update=node_update),
        "node_id": settings.node_id + slot,
    }
    if slot > 0:
        update["smpp"] = settings.smpp.model_copy(update={"enabled": False})
    return settings.model_copy(update=update)


def worker_cpu(settings: Settings, slot: int, count: int) -> int | None:
    """The CPU worker `slot` of `count` runs on: a CPU of its own among those this process
    may use (in order), when [node] pin_workers and there are enough; otherwise None, the OS
    places it (a [node] cpu given for one node would put every worker on one core)."""
    if not settings.node.pin_workers or count < 2 or not hasattr(os, "sched_getaffinity"):
        return None
    usable = sorted(os.sched_getaffinity(0))
    return usable[slot] if count <= len(usable) else None


def die_with_parent(parent: int) -> None:
    """Be killed (SIGKILL) the moment process `parent` dies: by the kernel on Linux, by a
    thread watching the parent pid elsewhere. Called first thing in a worker."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:  # it died before the prctl
                os.kill(os.getpid(), signal.SIGKILL)
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="smsgate-parent-watch", daemon=True).start()


def _run_worker(
    settings: Settings,
    http_socket: socket.socket,
    metrics_socket: socket.socket | None,
    supervisor: int,
) -> None:
    die_with_parent(supervisor)
    import asyncio

    from smsgate.logs import setup_logging
    from smsgate.node import serve

    setup_logging(settings.log.format, settings.log.level)
    install_uvloop()
    try:
        code = asyncio.run(serve(settings, http_socket=http_socket, metrics_socket=metrics_socket))
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
        http = listeners(self.settings.http.host, self.settings.http.port, self.count)
        port = http[0].getsockname()[1]
        # One loopback socket per worker slot, kept for the supervisor's life like the HTTP
        # ones: a restarted worker answers on its slot's address again.
        scrape: list[socket.socket | None] = [None] * self.count
        metrics_listener: MetricsListener | None = None
        metrics = self.settings.metrics
        if metrics.port is not None:
            scrape = [listen("127.0.0.1", 0) for _ in range(self.count)]
            addresses = [s.getsockname() for s in scrape if s is not None]
            metrics_listener = MetricsListener(
                metrics.host, metrics.port, metrics.token, lambda: collect_workers(addresses)
            )
            metrics_listener.start()
        context = multiprocessing.get_context("spawn")
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        started_at: dict[int, float] = {}
        scheme = "http" if self.settings.http.tls_cert is None else "https"
        try:
            print(
                f"smsgate: {self.count} workers on {scheme}://{self.settings.http.host}:{port}",
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
                    settings = worker_settings(self.settings, slot, self.count)
                    proc = context.Process(
                        target=_run_worker,
                        args=(settings, http[slot], scrape[slot], os.getpid()),
                        name=f"smsgate-worker-{slot}",
                    )
                    proc.start()
                    self._workers[slot] = proc
                    started_at[slot] = time.monotonic()
                wait([p.sentinel for p in self._workers.values()], timeout=0.5)
        finally:
            self._stop_all()
            if metrics_listener is not None:
                metrics_listener.stop()
            for sock in [*set(http), *(s for s in scrape if s is not None)]:
                sock.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _stop_all(self) -> None:
        for proc in self._workers.values():
            if proc.is_alive():
                proc.terminate()
        # A worker keeps serving ready_grace, drains for up to drain_timeout, then hands its
        # leases back and closes.
        node = self.settings.node
        deadline = time.monotonic() + node.ready_grace + node.drain_timeout + _STOP_MARGIN
        for proc in self._workers.values():
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                log.error("worker %s did not stop in time: killing it", proc.name)
                proc.kill()
                proc.join(5)
