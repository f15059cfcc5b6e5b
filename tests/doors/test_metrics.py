"""Metrics: what the gateway counts is what happened (accepted by door, rejected by reason,
request latency by path), in Prometheus text format; the loop's lock-free metrics export what
prometheus_client's would; the public port has no /metrics (the admin listener serves them:
tests/test_metrics_listener.py, tests/test_node_metrics.py); and the bare router's own answers."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import orjson
import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import metrics as prometheus_metrics

from smsgate.gateway.metrics import REGISTRY, LoopCounter, LoopHistogram

if TYPE_CHECKING:
    from tests.conftest import Stack


async def _scrape(stack: Stack) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in generate_latest(REGISTRY).decode().splitlines():
        match = re.match(r"^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$", line)
        if match:
            values[match.group(1)] = float(match.group(2))
    return values


async def test_sends_are_counted_by_door_and_reason_and_timed_by_path(stack: Stack) -> None:
    acct = await stack.account("metrics")
    before = await _scrape(stack)
    body = {"phone": ["380501234567", "380671234568", "12"], "message": "m", "src_addr": "Shop"}
    r = await stack.client.post("/sms/send", headers=acct.auth, content=orjson.dumps(body))
    assert r.status_code == 200 and len(r.json()["success_request"]["info"]) == 2
    after = await _scrape(stack)

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert delta('smsgate_messages_accepted_total{door="json"}') == 2
    assert delta('smsgate_recipients_rejected_total{reason="invalid_phone"}') == 1
    assert delta('smsgate_request_seconds_count{path="/sms/send"}') == 1
    assert 'smsgate_request_seconds_bucket{le="0.025",path="/sms/send"}' in after


async def test_the_public_port_has_no_metrics(stack: Stack) -> None:
    r = await stack.client.get("/metrics")
    assert r.status_code == 404 and "smsgate_" not in r.text


async def test_unknown_path_and_wrong_method_are_plain_http_errors(stack: Stack) -> None:
    r = await stack.client.get("/nowhere")
    assert r.status_code == 404 and r.text == "Not Found"
    r = await stack.client.delete("/health")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    r = await stack.client.head("/health")
    assert r.status_code == 200 and r.content == b""


def _exposition(registry: CollectorRegistry) -> list[str]:
    """The text format with the _created timestamps blanked (they are creation wall times)."""
    text = generate_latest(registry).decode()
    return [re.sub(r"(_created\{[^}]*\}) .*", r"\1 T", line) for line in text.splitlines()]


@pytest.mark.parametrize("created", [True, False])
def test_loop_metrics_export_exactly_what_prometheus_client_metrics_export(
    created: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prometheus_metrics, "_use_created", created)
    ours, theirs = CollectorRegistry(auto_describe=True), CollectorRegistry(auto_describe=True)
    buckets = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
    our_counter = LoopCounter("x_sent_total", "Sent, by door", ("door",), ours)
    our_pairs = LoopCounter("x_tried_total", "Tried, by way and result", ("way", "result"), ours)
    our_timing = LoopHistogram("x_seconds", "Latency by path", "path", buckets, ours)
    their_counter = Counter("x_sent_total", "Sent, by door", ["door"], registry=theirs)
    their_pairs = Counter(
        "x_tried_total", "Tried, by way and result", ["way", "result"], registry=theirs
    )
    their_timing = Histogram(
        "x_seconds", "Latency by path", ["path"], buckets=buckets, registry=theirs
    )
    assert _exposition(ours) == _exposition(theirs)  # nothing counted yet
    for door, n in [("json", 2), ("http", 1), ("json", 0), ("smpp", 7.5)]:
        our_counter.labels(door).inc(n)
        their_counter.labels(door).inc(n)
    for way, result in [("a", "ok"), ("b", "ok"), ("a", "late"), ("a", "ok")]:
        our_pairs.labels(way, result).inc()
        their_pairs.labels(way, result).inc()
    # every bucket, its exact bounds, and past the last one
    for path, seconds in [("/a", 0.0), ("/b", 0.001), ("/a", 0.0011), ("/a", 2.5), ("/b", 9.0)]:
        for value in [seconds, *buckets]:
            our_timing.labels(path).observe(value)
            their_timing.labels(path).observe(value)
    assert _exposition(ours) == _exposition(theirs)
    with pytest.raises(ValueError):
        our_counter.labels("json").inc(-1)
    with pytest.raises(ValueError):
        our_pairs.labels("a")  # one label short
