"""Loaded by every Python process that has this directory on PYTHONPATH (bench/write_lock.py
puts it there): when SMSGATE_WRITE_LOCK_PROBE names a path prefix, the store's writer is
wrapped to count, per process, how long it holds the database's write lock, how long it
waited for it, the thread CPU spent holding it, and that CPU by job. Every second the
cumulative counts go to <prefix>.<pid> as one JSON line. Nothing in src/ changes."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

_PREFIX = os.environ.get("SMSGATE_WRITE_LOCK_PROBE")


def _install() -> None:
    try:
        from smsgate.store import writer
    except ImportError:  # not a node (the load generator, a helper)
        return
    counts: dict[str, Any] = {"held": 0.0, "cpu": 0.0, "waited": 0.0, "txns": 0, "jobs": {}}
    jobs: dict[str, float] = counts["jobs"]
    waits = threading.local()

    acquire = writer._ProcessLock.acquire

    def timed_acquire(self: Any, wait: bool = True) -> None:
        started = time.perf_counter()
        try:
            acquire(self, wait)
        finally:
            waits.last = time.perf_counter() - started

    in_transaction = writer.ThreadWriter._in_transaction

    def timed_transaction(self: Any, work: Any, *, wait: bool = True) -> Any:
        waits.last = 0.0
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return in_transaction(self, work, wait=wait)
        finally:
            waited = waits.last
            counts["waited"] += waited
            counts["held"] += time.perf_counter() - wall - waited
            counts["cpu"] += time.thread_time() - cpu
            counts["txns"] += 1

    run = writer.ThreadWriter.run

    async def timed_run(self: Any, work: Any, **kwargs: Any) -> Any:
        name = work.__qualname__.split(".<locals>")[0]

        def job(conn: Any) -> Any:
            cpu = time.thread_time()
            try:
                return work(conn)
            finally:
                jobs[name] = jobs.get(name, 0.0) + time.thread_time() - cpu

        return await run(self, job, **kwargs)

    writer._ProcessLock.acquire = timed_acquire  # type: ignore[method-assign]
    writer.ThreadWriter._in_transaction = timed_transaction  # type: ignore[method-assign]
    writer.ThreadWriter.run = timed_run  # type: ignore[method-assign]

    def report() -> None:
        with open(f"{_PREFIX}.{os.getpid()}", "a") as out:
            while True:
                time.sleep(1.0)
                out.write(json.dumps({"t": time.time(), **counts, "jobs": dict(jobs)}) + "\n")
                out.flush()

    threading.Thread(target=report, name="write-lock-probe", daemon=True).start()


if _PREFIX:
    _install()
