"""A long-running process's tuning, set once at start: the interpreter's thread switch interval
and the node's CPU scheduling class and CPU, the garbage collector's thresholds (a node's and the
standalone SMPP simulator's), and the number of descriptors it may open.

Neither changes what the process computes, only when the OS and the interpreter spend time on
it; both are here so that everything a node changes about its own process is in one place.
The figures below are from the SMPP door benchmark (bench/RESULTS.md has the runs).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys

log = logging.getLogger(__name__)

# The store's writer thread and the event loop share the GIL. With the default 5 ms switch
# interval, each time the writer drops the GIL for SQLite it may wait 5 ms to get it back from
# the loop (and the loop as long for the writer), so a commit of a few milliseconds of work took
# several times that in wall time; 0.5 ms measured ~1.5x the accepts.
SWITCH_INTERVAL = 0.0005  # seconds


def use_short_switch_interval() -> None:
    """Let a thread waiting for the GIL have it after 0.5 ms instead of 5 ms."""
    sys.setswitchinterval(SWITCH_INTERVAL)


# With CPython's defaults the collector took ~14 % of a node's wall time and each full
# collection stopped the loop and the writer for ~90 ms, scanning mostly the startup heap
# (SQLAlchemy, pydantic, phone metadata: ~100k objects that live as long as the process).
# A gen-0 threshold of 20,000 instead of 700 collects ~30 times less often, each time over
# objects most of which reference counting has already freed; gens 1 and 2 wait for twice
# their default count of younger collections, in step with it.
GEN0_THRESHOLD = 20_000
GEN1_THRESHOLD = 20
GEN2_THRESHOLD = 20


def tune_garbage_collector() -> None:
    """Freeze what exists now (it lives as long as the process) out of every later
    collection and collect the young generation in larger batches. Call once the process
    has started. Cycles made afterwards are still freed, only later."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)


def use_batch_scheduling() -> bool:
    """Put the calling thread (and the threads it starts from now on) in SCHED_BATCH; False
    where the OS has no such class or refuses.

    The event loop and the store's writer thread share the GIL and wake each other for every
    transaction. Linux lets a woken thread take the CPU from its waker at once; on one core it
    then waits for the GIL the descheduled waker still holds. A SCHED_BATCH thread that is
    woken waits for a free core or the next tick instead: ~5,300 preemptions in 4 s of load
    became ~1,200 and the SMPP door carried 5-7 % more messages. Same nice level, same share
    of the CPU, no privilege needed. Threads inherit the class, so call it before starting any.
    """
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None or not hasattr(os, "sched_setscheduler"):
        return False
    try:
        os.sched_setscheduler(0, policy, os.sched_param(0))
    except OSError as exc:
        log.info("SCHED_BATCH not available: %s", exc)
        return False
    return True


def pin_to_cpu(cpu: int) -> bool:
    """Run every thread of this process, and the threads it starts from now on, on `cpu`
    only; False (with a warning) where the OS cannot or will not.

    A node's event loop and its store's writer thread take turns on the GIL many times a
    transaction. Left to migrate, the two wake each other across cores (an interprocessor
    wakeup and cold caches each time); on one core the same work costs less CPU per message
    (bench/RESULTS.md has the measurements). The GIL lets one of them run at a time anyway,
    so a second core bought the node little."""
    if not hasattr(os, "sched_setaffinity"):
        log.warning("cannot pin the node to CPU %d: this OS has no CPU affinity", cpu)
        return False
    # sched_setaffinity(0) is the calling thread's only; every thread already started is
    # listed under /proc/self/task (Linux), and threads started later inherit the mask.
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]
    try:
        for tid in threads:
            with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
                os.sched_setaffinity(tid, {cpu})
    except OSError as exc:
        log.warning("cannot pin the node to CPU %d: %s", cpu, exc)
        return False
    return True


# Descriptors a node opens beside its customers' connections: the store's connections and
# files, the operator connectors, the listeners, pipes and event descriptors, with room to spare.
DESCRIPTOR_HEADROOM = 256


def raise_descriptor_limit(wanted: int) -> int | None:
    """Raise the soft limit on open descriptors to `wanted` (no further than the hard limit),
    and warn when it stays below. The connection caps ([http] and [smpp] max_connections) only
    protect the node if the process can open that many: under a soft limit of 1,024 (systemd's
    and many shells' default) a flood of connections takes every descriptor before the caps
    are reached, and then every door and the store refuse everyone. Returns the soft limit in
    force, None where the OS has no such limit."""
    try:
        import resource
    except ImportError:  # not POSIX
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return soft
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.info("the open-descriptor limit stays at %d: %s", soft, exc)
    if soft < wanted:
        log.warning(
            "open descriptors are limited to %d, fewer than the %d the connection caps need "
            "([http] max_connections, [smpp] max_connections per port, callbacks, %d for the "
            "rest): a flood of connections can exhaust them before a cap refuses it. Raise the "
            "hard limit (systemd LimitNOFILE=, ulimit -Hn) or lower the caps.",
            soft,
            wanted,
            DESCRIPTOR_HEADROOM,
            extra={"event": "descriptor_limit", "limit": soft, "wanted": wanted},
        )
    return soft
