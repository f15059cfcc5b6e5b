"""Every path of /api/v1 spends one request of the account's budget (native/limits.py), so
none can be called past it: the search, a message and its parts, a cancel, a send, a quote,
the balance, the sender names, the event log and the inbound SMS. Past the budget each answers
429 as a problem with Retry-After and the RateLimit-* headers; before it, the headers say what
is left."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from smsgate.doors.app import build_app
from smsgate.doors.native.limits import ApiLimits

if TYPE_CHECKING:
    from tests.conftest import Stack

PROBLEM = "application/problem+json"
SEND = {"sender": "Shop", "to": ["380501234567"], "text": "budget"}
BURST = 2

ENDPOINTS = [
    ("GET", "/api/v1/messages", None),
    ("GET", "/api/v1/messages/{id}", None),
    ("DELETE", "/api/v1/messages/{id}", None),
    ("POST", "/api/v1/messages", SEND),
    ("POST", "/api/v1/quote", SEND),
    ("GET", "/api/v1/balance", None),
    ("GET", "/api/v1/senders", None),
    ("GET", "/api/v1/events", None),
    ("GET", "/api/v1/inbound", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_each_path_spends_the_budget_and_answers_429_past_it(
    stack: Stack, method: str, path: str, body: dict[str, object] | None
) -> None:
    acct = await stack.account("budget")
    sent = await stack.client.post("/api/v1/messages", headers=acct.auth, json=SEND)
    message_id = sent.json()["messages"][0]["id"]

    async def health() -> dict[str, object]:
        return {"ok": True, "connectors": {}}

    # A budget of two that refills once in ~17 minutes: the third request is over it however
    # slowly the machine runs.
    limits = ApiLimits(rate=0.001, burst=BURST)
    app = build_app(stack.gateway, health, max_body=200_000, limits=limits)
    transport = httpx.ASGITransport(app=app)
    url = path.format(id=message_id)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answers = [
            await client.request(
                method,
                url,
                headers=acct.auth,
                json=None if body is None else {**body, "text": f"b{n}"},
            )
            for n in range(BURST + 1)
        ]
    *allowed, refused = answers
    for n, answer in enumerate(allowed):
        assert answer.status_code < 400 or answer.status_code in (404, 409), answer.text
        assert answer.headers["RateLimit-Limit"] == str(BURST)
        assert answer.headers["RateLimit-Remaining"] == str(BURST - 1 - n)
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert (problem["status"], problem["title"]) == (429, "Too Many Requests")
    assert int(refused.headers["Retry-After"]) >= 1
    assert problem["retry_after"] == int(refused.headers["Retry-After"])
    assert refused.headers["RateLimit-Limit"] == str(BURST)
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert int(refused.headers["RateLimit-Reset"]) >= 1


async def test_the_paths_share_one_budget(stack: Stack) -> None:
    acct = await stack.account("shared")

    async def health() -> dict[str, object]:
        return {"ok": True, "connectors": {}}

    app = build_app(stack.gateway, health, limits=ApiLimits(rate=0.001, burst=3))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        statuses = [
            (await client.get(path, headers=acct.auth)).status_code
            for path in ("/api/v1/balance", "/api/v1/events", "/api/v1/inbound", "/api/v1/senders")
        ]
    assert statuses == [200, 200, 200, 429]
