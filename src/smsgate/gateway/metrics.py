"""Prometheus metrics of one node, served at /metrics.

Counters are process-local (each node exports its own); queue depth is read from the store when
scraped, so it is the same on every node.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

ACCEPTED = Counter(
    "smsgate_messages_accepted_total", "Messages accepted, by door", ["door"], registry=REGISTRY
)
REJECTED = Counter(
    "smsgate_recipients_rejected_total",
    "Recipients rejected at submit, by reason",
    ["reason"],
    registry=REGISTRY,
)
SUBMITTED = Counter(
    "smsgate_parts_submitted_total",
    "Parts the operator accepted, by connector",
    ["connector"],
    registry=REGISTRY,
)
SUBMIT_ERRORS = Counter(
    "smsgate_submit_errors_total",
    "submit_sm answered with an error or not at all, by connector and kind",
    ["connector", "kind"],
    registry=REGISTRY,
)
RECEIPTS = Counter(
    "smsgate_receipts_total", "Operator receipts, by part state", ["state"], registry=REGISTRY
)
QUEUE_DEPTH = Gauge(
    "smsgate_queue_depth", "Parts waiting to be submitted (all nodes)", registry=REGISTRY
)
CONNECTOR_BOUND = Gauge(
    "smsgate_connector_bound", "1 while a connector is bound", ["connector"], registry=REGISTRY
)
REQUEST_LATENCY = Histogram(
    "smsgate_request_seconds",
    "HTTP request latency by path",
    ["path"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
SUBMIT_LATENCY = Histogram(
    "smsgate_submit_seconds",
    "submit_sm round trip to the operator",
    ["connector"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
    registry=REGISTRY,
)


# Bound children, so the hot path does not pay `labels()` (a lock and a tuple key) per request.
_accepted: dict[str, Counter] = {}
_rejected: dict[str, Counter] = {}


def count_accepted(door: str, n: int) -> None:
    child = _accepted.get(door)
    if child is None:
        child = _accepted[door] = ACCEPTED.labels(door)
    child.inc(n)


def count_rejected(reason: str, n: int = 1) -> None:
    child = _rejected.get(reason)
    if child is None:
        child = _rejected[reason] = REJECTED.labels(reason)
    child.inc(n)
