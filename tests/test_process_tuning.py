"""Process tuning: the startup heap is frozen, gen 0 is collected in larger batches and cycles
made afterwards are still freed (in a child interpreter: freezing the test process's heap would
change every later test's collector); the node's threads run as SCHED_BATCH where Linux offers
it, and threads inherit it; the descriptor limit is raised to what the connection caps need (in a
child too, whose limits the test sets)."""

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


DESCRIPTORS_CHILD = textwrap.dedent(
    """
    import json, logging, resource, sys
    from smsgate import process_tuning

    soft, hard, wanted = map(int, sys.argv[1:])
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    warnings = []
    handler = logging.Handler()
    handler.emit = lambda record: warnings.append(record.__dict__.get("event"))
    logging.getLogger("smsgate.process_tuning").addHandler(handler)
    answered = process_tuning.raise_descriptor_limit(wanted)
    print(json.dumps({
        "answered": answered,
        "soft": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "warnings": warnings,
    }))
    """
)


def descriptor_limit_in_a_child(soft: int, hard: int, wanted: int) -> dict[str, object]:
    """raise_descriptor_limit in a child whose limits start at (soft, hard): the test process's
    own limits stay as they are."""
    out = subprocess.run(
        [sys.executable, "-c", DESCRIPTORS_CHILD, str(soft), str(hard), str(wanted)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return dict(json.loads(out.stdout))


def hard_limit() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def test_the_descriptor_limit_is_raised_to_what_the_caps_need() -> None:
    assert hard_limit() >= 4096, "the machine's own hard limit is too low for this test"
    assert descriptor_limit_in_a_child(256, 4096, 3000) == {
        "answered": 3000,
        "soft": 3000,
        "warnings": [],
    }


def test_a_hard_limit_below_the_caps_is_reached_and_said() -> None:
    assert descriptor_limit_in_a_child(256, 1000, 3000) == {
        "answered": 1000,
        "soft": 1000,
        "warnings": ["descriptor_limit"],
    }


def test_a_limit_already_high_enough_is_left_alone() -> None:
    assert descriptor_limit_in_a_child(2000, 4096, 1500) == {
        "answered": 2000,
        "soft": 2000,
        "warnings": [],
    }


def test_a_node_wants_descriptors_for_every_cap() -> None:
    from smsgate.config import load_settings
    from smsgate.node import descriptors_wanted

    settings = load_settings(None, http={"max_connections": 100}, smpp={"max_connections": 50})
    base = 100 + 50 + settings.callbacks.max_connections + process_tuning.DESCRIPTOR_HEADROOM
    assert descriptors_wanted(settings) == base
    tls = settings.smpp.model_copy(update={"tls_port": 2776})  # the TLS port is capped too
    assert descriptors_wanted(settings.model_copy(update={"smpp": tls})) == base + 50
    no_smpp = load_settings(None, http={"max_connections": 100}, smpp={"enabled": False})
    assert descriptors_wanted(no_smpp) == base - 50


PIN_CHILD = textwrap.dedent(
    """
    import json, os, threading
    from smsgate import process_tuning

    cpu = max(os.sched_getaffinity(0))
    release = threading.Event()
    early_tid = []

    def early():
        early_tid.append(threading.get_native_id())
        release.wait(10)

    before = threading.Thread(target=early)
    before.start()
    while not early_tid:
        pass
    pinned = process_tuning.pin_to_cpu(cpu)
    later = {}
    after = threading.Thread(target=lambda: later.update(mask=sorted(os.sched_getaffinity(0))))
    after.start()
    after.join()
    print(json.dumps({
        "cpu": cpu,
        "pinned": pinned,
        "main": sorted(os.sched_getaffinity(0)),
        "started_before": sorted(os.sched_getaffinity(early_tid[0])),
        "started_after": later["mask"],
    }))
    release.set()
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="CPU affinity is Linux's")
def test_pinning_puts_every_thread_on_the_cpu_those_started_before_and_after() -> None:
    # In a child: the test process's own threads keep every CPU.
    out = subprocess.run(
        [sys.executable, "-c", PIN_CHILD], capture_output=True, text=True, check=True, timeout=60
    )
    got = json.loads(out.stdout)
    cpu = got["cpu"]
    assert got["pinned"] is True
    assert got["main"] == got["started_before"] == got["started_after"] == [cpu]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="CPU affinity is Linux's")
def test_a_cpu_the_process_may_not_use_is_said_and_left() -> None:
    child = textwrap.dedent(
        """
        import json, logging, os
        from smsgate import process_tuning
        said = []
        handler = logging.Handler()
        handler.emit = lambda record: said.append(record.getMessage())
        logging.getLogger("smsgate.process_tuning").addHandler(handler)
        before = sorted(os.sched_getaffinity(0))
        pinned = process_tuning.pin_to_cpu(4095)
        same = sorted(os.sched_getaffinity(0)) == before
        print(json.dumps({"pinned": pinned, "said": said, "same": same}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, check=True, timeout=60
    )
    got = json.loads(out.stdout)
    assert got["pinned"] is False and got["same"] is True
    assert got["said"] and "cannot pin the node to CPU 4095" in got["said"][0]


def test_a_single_node_is_left_to_the_os_unless_given_a_cpu() -> None:
    assert Settings().node.cpu is None
    assert Settings(node={"cpu": 1}).node.cpu == 1
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        Settings(node={"cpu": -1})
