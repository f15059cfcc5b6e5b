"""The native API as a whole: its OpenAPI 3.1 document and docs page, problems for unknown
paths, wrong methods and large bodies, per-account limits with RateLimit-* headers, balance
and senders, and one Idempotency-Key sent twice at once."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx
import pytest

from smsgate.doors.native.limits import ApiLimits

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

PROBLEM = "application/problem+json"


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("alice")


async def test_the_openapi_document_is_3_1_and_describes_every_endpoint(stack: Stack) -> None:
    r = await stack.client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    assert {
        "/api/v1/messages",
        "/api/v1/messages/{message_id}",
        "/api/v1/quote",
        "/api/v1/balance",
        "/api/v1/senders",
        "/api/v1/ledger",
        "/api/v1/usage",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{endpoint_id}",
        "/api/v1/webhooks/{endpoint_id}/rotate-secret",
        "/api/v1/webhooks/failed",
        "/api/v1/webhooks/failed/redeliver",
        "/api/v1/events",
        "/api/v1/inbound",
    } <= set(doc["paths"])
    send = doc["paths"]["/api/v1/messages"]["post"]
    assert {"201", "401", "409", "422", "429"} <= set(send["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in send["parameters"])


async def test_the_docs_page_is_served(stack: Stack) -> None:
    r = await stack.client.get("/api/v1/docs")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert "/api/v1/openapi.json" in r.text
    # Written from the document itself, every operation and schema, and readable offline.
    doc = (await stack.client.get("/api/v1/openapi.json")).json()
    for path, methods in doc["paths"].items():
        for method in methods:
            shown = f"<span class=method>{method.upper()}</span> <span class=path>{path}</span>"
            assert shown in r.text, (method, path)
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in r.text
    assert "<script" not in r.text and "http://" not in r.text and "https://" not in r.text
    assert "send_at" in r.text and "Idempotency-Key" in r.text
    swagger = await stack.client.get("/api/v1/docs/try")
    assert swagger.status_code == 200 and "swagger-ui" in swagger.text


async def test_unknown_paths_and_methods_are_problems(stack: Stack, acct: TestAccount) -> None:
    missing = await stack.client.get("/api/v1/nothing", headers=acct.auth)
    assert (missing.status_code, missing.headers["content-type"]) == (404, PROBLEM)
    wrong = await stack.client.delete("/api/v1/balance", headers=acct.auth)
    assert (wrong.status_code, wrong.headers["content-type"]) == (405, PROBLEM)
    assert wrong.json()["status"] == 405


async def test_the_legacy_doors_are_untouched_beside_the_api(
    stack: Stack, acct: TestAccount
) -> None:
    r = await stack.client.post("/sms/balance", headers=acct.auth)
    assert r.json() == {"success_request": {"info": {"money": "1000.0000", "currency": "UAH"}}}
    assert (await stack.client.get("/nothing")).status_code == 404


async def test_a_body_past_the_limit_is_a_413_problem(stack: Stack, acct: TestAccount) -> None:
    r = await stack.client.post(
        "/api/v1/messages",
        headers={**acct.auth, "Content-Type": "application/json"},
        content=b"x" * 300_000,  # the stack's limit is 200,000
    )
    assert (r.status_code, r.headers["content-type"]) == (413, PROBLEM)


async def test_balance_and_senders(stack: Stack, acct: TestAccount) -> None:
    balance = await stack.client.get("/api/v1/balance", headers=acct.auth)
    assert balance.json() == {
        "balance": "1000.0000",
        "reserved": "0.0000",
        "charged": "0.0000",
        "currency": "UAH",
    }
    senders = await stack.client.get("/api/v1/senders", headers=acct.auth)
    assert senders.json() == {"senders": ["Shop"]}


async def test_past_the_request_budget_is_a_429_with_retry_after(stack: Stack) -> None:
    from smsgate.doors.native.app import build_native_app

    account = await stack.account("busy")
    app = build_native_app(stack.gateway, ApiLimits(rate=1.0, burst=3))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answers = [await client.get("/api/v1/balance", headers=account.auth) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    refused = answers[-1]
    assert refused.headers["content-type"] == PROBLEM
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["retry_after"] == int(refused.headers["Retry-After"])


async def test_the_account_rate_limit_of_sending_is_a_429(stack: Stack) -> None:
    slow = await stack.account("slow", rate_limit=1)
    body = {"sender": "Shop", "to": ["380501234567"], "text": "x"}
    first = await stack.client.post("/api/v1/messages", headers=slow.auth, json=body)
    second = await stack.client.post(
        "/api/v1/messages", headers=slow.auth, json={**body, "text": "y"}
    )
    assert first.status_code == 201
    assert (second.status_code, second.headers["content-type"]) == (429, PROBLEM)
    assert int(second.headers["Retry-After"]) >= 1


async def test_one_key_sent_twice_at_once_sends_once(stack: Stack, acct: TestAccount) -> None:
    headers = {**acct.auth, "Idempotency-Key": "race"}
    body = {"sender": "Shop", "to": ["380501234567"], "text": "once"}
    answers = await asyncio.gather(
        *(stack.client.post("/api/v1/messages", headers=headers, json=body) for _ in range(4))
    )
    statuses = sorted(a.status_code for a in answers)
    # The first is served; the others see its answer, or that it is still being served.
    assert statuses[0] == 201 and set(statuses) <= {201, 409}
    ids = {a.json()["messages"][0]["id"] for a in answers if a.status_code == 201}
    assert len(ids) == 1
    balance = await stack.client.get("/api/v1/balance", headers=acct.auth)
    assert balance.json()["reserved"] == "0.5000"


async def test_a_database_not_answering_is_a_503_problem_with_retry_after(
    stack: Stack, acct: TestAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    async def full(*args: object, **kwargs: object) -> object:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(stack.store, "search_messages", full)
    monkeypatch.setattr(stack.store, "events", full)
    for path in ("/api/v1/messages", "/api/v1/events"):
        r = await stack.client.get(path, headers=acct.auth)
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == PROBLEM
        assert r.headers["retry-after"] == "1" and r.json()["retry_after"] == 1
        assert "RateLimit-Remaining" in r.headers
    doc = (await stack.client.get("/api/v1/openapi.json")).json()
    assert "503" in doc["paths"]["/api/v1/messages"]["post"]["responses"]
