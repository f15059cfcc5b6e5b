"""The node's threads run as SCHED_BATCH where Linux offers it, and threads inherit it."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from smsgate.config import Settings
from smsgate.scheduling import use_batch_scheduling


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


def test_nodes_use_it_unless_configured_off() -> None:
    assert Settings().node.batch_scheduling is True
    assert Settings(node={"batch_scheduling": False}).node.batch_scheduling is False
