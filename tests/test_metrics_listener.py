"""The metrics admin listener (its own port, a bearer token when set) and the supervisor's merge
of its workers' expositions (every series labelled with its worker, none lost)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from smsgate.metrics_listener import MetricsListener
from smsgate.metrics_merge import collect_workers, merge


def _exposition(submitted: float) -> str:
    registry = CollectorRegistry()
    Counter("smsgate_parts_submitted", "P", ["connector"], registry=registry).labels("a").inc(
        submitted
    )
    Histogram("smsgate_submit_seconds", "S", registry=registry, buckets=(0.1,)).observe(0.05)
    return generate_latest(registry).decode()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_each_workers_series_keeps_its_value_under_its_worker_label() -> None:
    merged = _samples(merge({"0": _exposition(2998), "1": _exposition(5)}).decode())
    total = "smsgate_parts_submitted_total"
    assert merged[(total, (("connector", "a"), ("worker", "0")))] == 2998
    assert merged[(total, (("connector", "a"), ("worker", "1")))] == 5
    bucket = "smsgate_submit_seconds_bucket"
    assert merged[(bucket, (("le", "0.1"), ("worker", "1")))] == 1


@pytest.fixture
def workers() -> Iterator[list[tuple[str, int]]]:
    """Two fake workers answering on loopback as a node does, and a third that is down."""
    servers = []
    for submitted in (7, 11):
        sock = socket.create_server(("127.0.0.1", 0))
        body = _exposition(submitted).encode()

        def answer(sock: socket.socket = sock, body: bytes = body) -> None:
            while True:
                try:
                    conn, _ = sock.accept()
                except OSError:
                    return
                with conn:
                    conn.sendall(body)

        threading.Thread(target=answer, daemon=True).start()
        servers.append(sock)
    down = socket.create_server(("127.0.0.1", 0))
    down_address = down.getsockname()
    down.close()
    try:
        yield [s.getsockname() for s in servers] + [down_address]
    finally:
        for s in servers:
            s.close()


def test_the_supervisor_serves_every_answering_worker_as_one_view(
    workers: list[tuple[str, int]],
) -> None:
    listener = MetricsListener("127.0.0.1", 0, "", lambda: collect_workers(workers))
    listener.start()
    try:
        for _ in range(3):  # the same view at every scrape, never one worker's alone
            r = httpx.get(f"http://127.0.0.1:{listener.port}/metrics", timeout=5)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
            values = {
                labels: v
                for (name, labels), v in _samples(r.text).items()
                if name == "smsgate_parts_submitted_total"
            }
            assert values == {
                (("connector", "a"), ("worker", "0")): 7,
                (("connector", "a"), ("worker", "1")): 11,
            }
    finally:
        listener.stop()


def test_a_token_is_required_when_set_and_other_paths_are_not_found() -> None:
    listener = MetricsListener("127.0.0.1", 0, "s3cret", lambda: b"x 1\n")
    listener.start()
    base = f"http://127.0.0.1:{listener.port}"
    try:
        assert httpx.get(f"{base}/metrics", timeout=5).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert httpx.get(f"{base}/metrics", headers=wrong, timeout=5).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        r = httpx.get(f"{base}/metrics", headers=right, timeout=5)
        assert (r.status_code, r.text) == (200, "x 1\n")
        assert httpx.get(f"{base}/other", headers=right, timeout=5).status_code == 404
    finally:
        listener.stop()
