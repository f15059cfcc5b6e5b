"""One metrics view for `serve --workers N`: the supervisor reads each worker's exposition
(each worker answers on a loopback socket the supervisor bound for its slot and keeps for its
whole life) and serves them as one, every series labelled with its `worker` slot.

Labelled rather than summed: a restarted worker starts its counters at zero, which Prometheus
reads as a reset of that worker's series and handles; a sum falling by one worker's share would
be a reset of the whole node's counter. `sum without (worker)` in a query gives the node's total.
A worker that does not answer (restarting) is left out of that scrape.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

log = logging.getLogger(__name__)

_READ_TIMEOUT = 2.0  # seconds a worker gets to answer one scrape


def read_worker(address: tuple[str, int], timeout: float = _READ_TIMEOUT) -> str | None:
    """The exposition text a worker writes on connect, or None if it does not answer."""
    try:
        with socket.create_connection(address, timeout=timeout) as conn:
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
    except OSError:
        return None
    return b"".join(chunks).decode("utf-8")


class _Merged:
    """A collector over parsed families: what CollectorRegistry needs to write them again."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = families

    def collect(self) -> Sequence[Metric]:
        return self._families


def merge(texts: dict[str, str]) -> bytes:
    """Worker slot -> its exposition text, as one exposition with a `worker` label added to
    every sample (families of one name merged, HELP and TYPE written once)."""
    families: dict[str, Metric] = {}
    for worker, text in texts.items():
        for family in text_string_to_metric_families(text):
            merged = families.get(family.name)
            if merged is None:
                merged = families[family.name] = Metric(
                    family.name, family.documentation, family.type, family.unit
                )
            for sample in family.samples:
                labels = {**sample.labels, "worker": worker}
                merged.add_sample(sample.name, labels, sample.value, sample.timestamp)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged(list(families.values())))
    return generate_latest(registry)


def collect_workers(addresses: Sequence[tuple[str, int]]) -> bytes:
    """Every worker's exposition, read now, merged."""
    texts: dict[str, str] = {}
    for slot, address in enumerate(addresses):
        text = read_worker(address)
        if text is None:
            log.debug("worker %d did not answer the metrics scrape", slot)
        else:
            texts[str(slot)] = text
    return merge(texts)
