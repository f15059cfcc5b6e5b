"""The node's CPU scheduling class: SCHED_BATCH where the OS has it (Linux), so that the node's
threads do not preempt each other when one wakes another.

Why: the event loop and the store's writer thread share the GIL, and they wake each other for
every transaction (the loop hands the writer its work; the writer hands the loop its result),
as do the workers of one machine through the database's write lock. Linux lets a thread that
was just woken take the CPU from the one that woke it at once. When both run on one core,
the woken thread then asks for the GIL that the descheduled waker still holds, and both stand
still until the scheduler returns to the waker. A SCHED_BATCH thread that is woken waits for a
free core or the next scheduler tick instead of preempting. On the SMPP door benchmark
(bench/RESULTS.md, "Session 7": two cores shared with the customer and the operator) the
workers' threads were preempted ~5,300 times in 4 s of load, and ~1,200 times with it; the
door carried 5-7 % more messages. Nothing else changes: the same nice level and the same
share of the CPU, and no privilege is needed. Threads inherit the class from the thread that
starts them, so it is set before the node starts any.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def use_batch_scheduling() -> bool:
    """Put the calling thread (and the threads it starts from now on) in SCHED_BATCH; False
    where the OS has no such class or refuses."""
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None or not hasattr(os, "sched_setscheduler"):
        return False
    try:
        os.sched_setscheduler(0, policy, os.sched_param(0))
    except OSError as exc:
        log.info("SCHED_BATCH not available: %s", exc)
        return False
    return True
