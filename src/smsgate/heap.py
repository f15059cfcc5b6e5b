"""A long-running process's garbage-collector settings (a node's, and the standalone SMPP
simulator's): the heap it starts with is frozen, and young objects are collected in larger
batches.

Measured on the SMPP door benchmark with CPython's defaults (bench/RESULTS.md, "Session 5"):
the collector took ~14 % of the gateway's wall time, and each full collection stopped the
loop and the writer for ~90 ms. What it scans is mostly the startup heap (SQLAlchemy,
pydantic, phone metadata: ~100k objects that live as long as the process) and, at gen 0, the
few objects a message leaves behind between collections. Freezing the startup heap takes it
out of every later collection; a gen-0 threshold of 20,000 instead of 700 collects ~30 times
less often, each time over objects most of which are already gone by reference counting;
gens 1 and 2 wait for twice their default count of younger collections, in step with it.
Nothing here changes what is freed: cycles are still found, only later.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 20_000
GEN1_THRESHOLD = 20
GEN2_THRESHOLD = 20


def settle() -> None:
    """Call once the node has started: what exists now lives as long as the process."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)
