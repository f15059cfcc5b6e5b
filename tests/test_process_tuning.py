"""Process tuning: the startup heap is frozen, gen 0 is collected in larger batches and cycles
made afterwards are still freed (in a child interpreter: freezing the test process's heap would
change every later test's collector); the node's threads run as SCHED_BATCH where Linux offers
it, and threads inherit it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from smsgate import process_tuning
from smsgate.config import Settings
from smsgate.process_tuning import use_batch_scheduling

CHILD = textwrap.dedent(
    """
    import gc, json, weakref
    from smsgate import process_tuning

    before = gc.get_freeze_count()
    process_tuning.tune_garbage_collector()

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle only the collector can free
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    print(json.dumps({
        "before": before,
        "frozen": gc.get_freeze_count(),
        "threshold": gc.get_threshold(),
        "cycle_freed": gone() is None,
    }))
    """
)


def test_the_collector_freezes_the_startup_heap_and_still_frees_later_cycles() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=60
    )
    got = json.loads(out.stdout)
    assert got["before"] == 0
    assert got["frozen"] > 1000  # the interpreter and smsgate's imports at least
    assert tuple(got["threshold"]) == (
        process_tuning.GEN0_THRESHOLD,
        process_tuning.GEN1_THRESHOLD,
        process_tuning.GEN2_THRESHOLD,
    )
    assert got["cycle_freed"] is True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_BATCH is Linux's")
def test_the_calling_thread_and_the_threads_it_starts_are_batch() -> None:
    seen: dict[str, int] = {}
    runner = os.sched_getscheduler(0)

    def child() -> None:
        seen["child"] = os.sched_getscheduler(0)

    def node_thread() -> None:
        # A thread of its own, so that the test runner's thread keeps its class.
        seen["applied"] = int(use_batch_scheduling())
        seen["self"] = os.sched_getscheduler(0)
        started = threading.Thread(target=child)
        started.start()
        started.join()

    t = threading.Thread(target=node_thread)
    t.start()
    t.join()
    assert seen == {"applied": 1, "self": os.SCHED_BATCH, "child": os.SCHED_BATCH}
    assert os.sched_getscheduler(0) == runner  # per thread: the caller's own class only


def test_nodes_use_batch_scheduling_unless_configured_off() -> None:
    assert Settings().node.batch_scheduling is True
    assert Settings(node={"batch_scheduling": False}).node.batch_scheduling is False
