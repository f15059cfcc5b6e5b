"""heap.settle: the startup heap is frozen, gen 0 is collected in larger batches, and cycles
made afterwards are still freed. Run in a child interpreter: freezing the test process's heap
would change every later test's collector."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from smsgate import heap

CHILD = textwrap.dedent(
    """
    import gc, json, weakref
    from smsgate import heap

    before = gc.get_freeze_count()
    heap.settle()

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


def test_settle_freezes_the_startup_heap_and_still_frees_later_cycles() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=60
    )
    got = json.loads(out.stdout)
    assert got["before"] == 0
    assert got["frozen"] > 1000  # the interpreter and smsgate's imports at least
    assert tuple(got["threshold"]) == (
        heap.GEN0_THRESHOLD,
        heap.GEN1_THRESHOLD,
        heap.GEN2_THRESHOLD,
    )
    assert got["cycle_freed"] is True
