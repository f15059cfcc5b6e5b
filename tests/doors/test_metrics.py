"""/metrics: what the gateway counts is what happened (accepted by door, rejected by reason,
request latency by path), in Prometheus text format; and the bare router's own answers."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from tests.conftest import Stack


async def _scrape(stack: Stack) -> dict[str, float]:
    r = await stack.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    values: dict[str, float] = {}
    for line in r.text.splitlines():
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


async def test_unknown_path_and_wrong_method_are_plain_http_errors(stack: Stack) -> None:
    r = await stack.client.get("/nowhere")
    assert r.status_code == 404 and r.text == "Not Found"
    r = await stack.client.delete("/health")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    r = await stack.client.head("/health")
    assert r.status_code == 200 and r.content == b""
