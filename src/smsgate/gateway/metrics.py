"""Prometheus metrics of one node, served on the admin listener (metrics_listener.py) at
/metrics.

Counters are process-local (each node exports its own); the queue and outbox depths are read
from the store (by the dispatcher's sweep and by outbox_depth.py), so they are the same on
every node.

The counters and histograms a message moves (accepted, rejected, request latency, submitted,
submit errors and latency, receipts, deliveries and their latency) are `LoopCounter` and
`LoopHistogram`: updated only on the event loop, so a plain add each, where a prometheus_client
child checks it may be observed and takes a lock per add (a histogram observation two, after
a search of its buckets in Python); bench/RESULTS.md has the cost of each.
They are scraped through REGISTRY with the same samples a prometheus_client Counter and
Histogram give (tests/doors/test_metrics.py compares the two). The gauges stay
prometheus_client's: they are set, not added to, and only every few seconds.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client import metrics as _prometheus_metrics
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

REGISTRY = CollectorRegistry(auto_describe=True)


def _created_series() -> bool:
    # prometheus_client's own switch (PROMETHEUS_DISABLE_CREATED_SERIES, disable_created_metrics).
    return bool(getattr(_prometheus_metrics, "_use_created", True))


class LoopCount:
    """One label value of a LoopCounter. Not thread-safe by design: only the loop adds."""

    __slots__ = ("created", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.created = time.time()

    def inc(self, amount: float = 1) -> None:
        if amount < 0:
            raise ValueError("Counters can only be incremented by non-negative amounts.")
        self.value += amount


class LoopCounter(Collector):
    """A counter with labels, exported like prometheus_client's `Counter`: without its lock
    and checks per increment, for counters only the event loop adds to."""

    def __init__(
        self, name: str, documentation: str, labels: tuple[str, ...], registry: CollectorRegistry
    ) -> None:
        self._name = name.removesuffix("_total")
        self._documentation = documentation
        self._labels = labels
        self._children: dict[tuple[str, ...], LoopCount] = {}
        registry.register(self)

    def labels(self, *values: str) -> LoopCount:
        child = self._children.get(values)
        if child is None:
            if len(values) != len(self._labels):
                raise ValueError(f"{self._name} takes the labels {self._labels}")
            child = self._children[values] = LoopCount()
        return child

    def collect(self) -> Iterable[Metric]:
        metric = Metric(self._name, self._documentation, "counter")
        created = _created_series()
        for values, child in list(self._children.items()):
            labels = dict(zip(self._labels, values, strict=True))
            metric.add_sample(self._name + "_total", labels, child.value)
            if created:
                metric.add_sample(self._name + "_created", dict(labels), child.created)
        return [metric]


class LoopTiming:
    """One label value of a LoopHistogram. Not thread-safe by design: only the loop observes."""

    __slots__ = ("_bounds", "counts", "created", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self.counts = [0.0] * len(bounds)
        self.sum = 0.0
        self.created = time.time()

    def observe(self, amount: float) -> None:
        """`amount` is a duration (never NaN): the first bucket whose bound is >= it."""
        self.counts[bisect_left(self._bounds, amount)] += 1
        self.sum += amount


class LoopHistogram(Collector):
    """A histogram with one label, exported like prometheus_client's `Histogram`: without its
    locks and its per-bucket loop in Python, for timings only the event loop observes."""

    def __init__(
        self,
        name: str,
        documentation: str,
        label: str,
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._label = label
        bounds = sorted(float(b) for b in buckets)
        if bounds[-1] != float("inf"):
            bounds.append(float("inf"))
        self._bounds = tuple(bounds)
        # The `le` label values, spelled as prometheus_client spells them ("+Inf", "1.0").
        self._les: tuple[str, ...] = tuple(
            floatToGoString(b)  # type: ignore[no-untyped-call]
            for b in bounds
        )
        self._children: dict[str, LoopTiming] = {}
        registry.register(self)

    def labels(self, value: str) -> LoopTiming:
        child = self._children.get(value)
        if child is None:
            child = self._children[value] = LoopTiming(self._bounds)
        return child

    def collect(self) -> Iterable[Metric]:
        metric = Metric(self._name, self._documentation, "histogram")
        created = _created_series()
        for value, child in list(self._children.items()):
            labels = {self._label: value}
            total = 0.0
            for le, count in zip(self._les, child.counts, strict=True):
                total += count
                metric.add_sample(self._name + "_bucket", {**labels, "le": le}, total)
            metric.add_sample(self._name + "_count", dict(labels), total)
            if self._bounds[0] >= 0:
                metric.add_sample(self._name + "_sum", dict(labels), child.sum)
            if created:
                metric.add_sample(self._name + "_created", dict(labels), child.created)
        return [metric]


ACCEPTED = LoopCounter(
    "smsgate_messages_accepted_total", "Messages accepted, by door", ("door",), REGISTRY
)
REJECTED = LoopCounter(
    "smsgate_recipients_rejected_total",
    "Recipients rejected at submit, by reason",
    ("reason",),
    REGISTRY,
)
SUBMITTED = LoopCounter(
    "smsgate_parts_submitted_total",
    "Parts the operator accepted, by connector",
    ("connector",),
    REGISTRY,
)
SUBMIT_ERRORS = LoopCounter(
    "smsgate_submit_errors_total",
    "submit_sm answered with an error or not at all, by connector and kind",
    ("connector", "kind"),
    REGISTRY,
)
RECEIPTS = LoopCounter(
    "smsgate_receipts_total",
    "Operator receipts stored, by connector and part state",
    ("connector", "state"),
    REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "smsgate_queue_depth", "Parts waiting to be submitted (all nodes)", registry=REGISTRY
)
OUTBOX_DEPTH = Gauge(
    "smsgate_outbox_depth",
    "Outbox items neither delivered nor given up, by kind (receipts, inbound, callbacks, "
    "webhooks; all nodes, read every few seconds)",
    ["kind"],
    registry=REGISTRY,
)
CONNECTOR_BOUND = Gauge(
    "smsgate_connector_bound", "1 while a connector is bound", ["connector"], registry=REGISTRY
)
REQUEST_LATENCY = LoopHistogram(
    "smsgate_request_seconds",
    "HTTP request latency by path",
    "path",
    (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    REGISTRY,
)
_JOURNEY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
TIME_TO_OPERATOR = LoopHistogram(
    "smsgate_time_to_operator_seconds",
    "From a message's acceptance (the time in its id) to the operator's submit_sm_resp "
    "accepting a part, by connector",
    "connector",
    _JOURNEY_BUCKETS,
    REGISTRY,
)
TIME_TO_RECEIPT = LoopHistogram(
    "smsgate_time_to_receipt_seconds",
    "From the operator accepting a part (submit_sm_resp) to its receipt, by connector "
    "(parts submitted by this process, the latest ones only)",
    "connector",
    _JOURNEY_BUCKETS,
    REGISTRY,
)
SUBMIT_LATENCY = LoopHistogram(
    "smsgate_submit_seconds",
    "submit_sm round trip to the operator",
    "connector",
    (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
    REGISTRY,
)

DELIVERIES = LoopCounter(
    "smsgate_deliveries_total",
    "Callback and webhook delivery attempts, by transport (callbacks, webhooks) and result: "
    "delivered (2xx), retrying (due again after a backoff), dead_letter (given up)",
    ("transport", "result"),
    REGISTRY,
)
DELIVERY_LATENCY = LoopHistogram(
    "smsgate_delivery_seconds",
    "Callback and webhook request time until the receiver answered or the attempt failed",
    "transport",
    (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    REGISTRY,
)


# The loop metrics' `labels()` is one dict lookup of their own children: no cache of them here.
def count_accepted(door: str, n: int) -> None:
    ACCEPTED.labels(door).inc(n)


def count_rejected(reason: str, n: int = 1) -> None:
    REJECTED.labels(reason).inc(n)


def count_delivery(transport: str, result: str, latency: float | None) -> None:
    """One callback or webhook attempt's result; `latency` None when no request was made (an
    item no request can be built of goes straight to the dead letters)."""
    DELIVERIES.labels(transport, result).inc()
    if latency is not None:
        DELIVERY_LATENCY.labels(transport).observe(latency)
