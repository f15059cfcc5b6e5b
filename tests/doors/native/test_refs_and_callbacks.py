"""POST /api/v1/messages with per-recipient client_refs, kept with each message and returned
by GET /api/v1/messages/{id} and the search, and with a callback_url: its status pushed there
(the per-message callbacks of gateway/callbacks.py); a URL the gateway refuses is a problem
naming callback_url."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import pytest

from smsgate.domain.status import PartState
from smsgate.gateway.views import CALLBACKS
from smsgate.store.records import OperatorReceipt, SubmitDone

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

PHONE = "380501234567"
PHONE2 = "380671234567"
HOOK = "https://example.com/status?shop=7"
PROBLEM = "application/problem+json"


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("alice")


async def test_client_refs_are_kept_and_read_back(stack: Stack, acct: TestAccount) -> None:
    r = await stack.client.post(
        "/api/v1/messages",
        headers=acct.auth,
        json={
            "sender": "Shop",
            "text": "Your order shipped",
            "recipients": [
                {"to": PHONE, "client_ref": "order-1"},
                {"to": PHONE2, "client_ref": "order-2"},
                {"to": "380931234567"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    ids = {m["client_ref"]: m["id"] for m in r.json()["messages"]}
    assert set(ids) == {"order-1", "order-2", None}
    for ref, message_id in ids.items():
        got = await stack.client.get(f"/api/v1/messages/{message_id}", headers=acct.auth)
        assert got.json()["client_ref"] == ref
    listed = await stack.client.get("/api/v1/messages", headers=acct.auth)
    assert {m["id"]: m["client_ref"] for m in listed.json()["messages"]} == {
        v: k for k, v in ids.items()
    }


async def queued_callbacks(stack: Stack) -> list[tuple[int, str, str, str | None]]:
    """The operator takes every queued part, then delivers it; the callbacks queued:
    (message id, url, method, status)."""
    parts = await stack.store.claim_parts(0, time.time() + 1, 100, 60)
    done = [SubmitDone(p.part_id, "op", f"K{p.part_id}", time.time()) for p in parts]
    receipts = [OperatorReceipt("op", d.operator_id, PartState.DELIVRD, 0, d.at) for d in done]
    await stack.store.submitted(done)
    await stack.store.apply_receipts(receipts)
    found = []
    for account in sorted({p.account_id for p in parts}):
        for item in await stack.store.outbox_pending(account, 100, kind=CALLBACKS):
            target = json.loads(item.payload or "")
            status = None if item.status is None else item.status.value
            found.append((item.message_id, target["url"], target["method"], status))
    return found


async def test_a_callback_url_gets_the_final_status(stack: Stack, acct: TestAccount) -> None:
    r = await stack.client.post(
        "/api/v1/messages",
        headers=acct.auth,
        json={"sender": "Shop", "to": [PHONE], "text": "Hi", "callback_url": HOOK},
    )
    assert r.status_code == 201, r.text
    message_id = int(r.json()["messages"][0]["id"])
    assert await queued_callbacks(stack) == [(message_id, HOOK, "POST", "DELIVRD")]


async def test_every_status_by_get_when_asked(stack: Stack, acct: TestAccount) -> None:
    r = await stack.client.post(
        "/api/v1/messages",
        headers=acct.auth,
        json={
            "sender": "Shop",
            "to": [PHONE],
            "text": "Hi",
            "callback_url": HOOK,
            "callback_method": "GET",
            "callback_events": "all",
        },
    )
    message_id = int(r.json()["messages"][0]["id"])
    assert await queued_callbacks(stack) == [
        (message_id, HOOK, "GET", "ENROUTE"),
        (message_id, HOOK, "GET", "DELIVRD"),
    ]


async def test_no_callback_url_queues_no_callback(stack: Stack, acct: TestAccount) -> None:
    r = await stack.client.post(
        "/api/v1/messages", headers=acct.auth, json={"sender": "Shop", "to": [PHONE], "text": "Hi"}
    )
    assert r.status_code == 201
    assert await queued_callbacks(stack) == []


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/dlr", "http://127.0.0.1:8080/dlr", "http://10.1.2.3/dlr", "not a url"],
)
async def test_a_refused_callback_url_is_a_problem_naming_it(
    stack: Stack, acct: TestAccount, url: str
) -> None:
    r = await stack.client.post(
        "/api/v1/messages",
        headers=acct.auth,
        json={"sender": "Shop", "to": [PHONE], "text": "Hi", "callback_url": url},
    )
    assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
    assert r.json()["field"] == "callback_url"
    assert await queued_callbacks(stack) == []
