"""GET /api/v1/events: an account's event log replayed in order with a Bearer token, in pages;
a missing or wrong token is a 401 problem, a bad parameter a 422 problem naming it (the path is
the native API's, on its framework, and in its OpenAPI document). Two nodes on one
database write into one numbering, and either replays all of it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import orjson
import pytest

from smsgate.domain.ids import IdGenerator
from smsgate.domain.status import PartState
from smsgate.doors.app import build_app
from smsgate.gateway.accounts import AccountCache
from smsgate.gateway.facade import Gateway
from smsgate.gateway.outbox.outbox import Outbox
from smsgate.gateway.submit import Submitter
from smsgate.store.records import OperatorReceipt, SubmitDone
from smsgate.store.sql_store import SqlStore

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

PHONE = "380501234567"


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("replay")


async def send(client: httpx.AsyncClient, acct: TestAccount, text: str) -> int:
    body = {"phone": [PHONE], "message": text, "src_addr": "Shop"}
    headers = {**dict(acct.auth), "Content-Type": "application/json"}
    r = await client.post("/sms/send", headers=headers, content=orjson.dumps(body))
    (message_id,) = r.json()["success_request"]["info"]
    return int(message_id)


async def replay(client: httpx.AsyncClient, acct: TestAccount, query: str = "") -> httpx.Response:
    return await client.get(
        f"/api/v1/events{query}", headers={"Authorization": f"Bearer {acct.token}"}
    )


async def test_an_accounts_events_replay_in_order_in_pages(stack: Stack, acct: TestAccount) -> None:
    first = await send(stack.client, acct, "one")
    second = await send(stack.client, acct, "two")
    parts = await stack.store.claim_parts(0, time.time() + 1, 10, 60)
    done = [SubmitDone(p.part_id, "op", f"E{p.part_id}", time.time()) for p in parts]
    receipts = [OperatorReceipt("op", d.operator_id, PartState.DELIVRD, 0, d.at) for d in done]
    await stack.store.apply_receipts(receipts, done)

    r = await replay(stack.client, acct)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    answer = r.json()
    events = answer["events"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert [(e["type"], e["message_id"]) for e in events] == [
        ("accepted", first),
        ("accepted", second),
        ("submitted", first),
        ("receipt", first),
        ("submitted", second),
        ("receipt", second),
    ]
    assert events[0]["data"] == {"parts": 1}
    assert events[3]["data"] == {"stat": "DELIVRD", "err": 0}
    assert answer["next_after"] == 6
    page = (await replay(stack.client, acct, "?after=2&limit=2")).json()
    assert page == {"events": events[2:4], "next_after": 4}
    assert (await replay(stack.client, acct, "?after=6")).json() == {
        "events": [],
        "next_after": 6,
    }


async def test_another_accounts_events_are_not_seen(stack: Stack, acct: TestAccount) -> None:
    other = await stack.account("other")
    await send(stack.client, other, "theirs")
    assert (await replay(stack.client, acct)).json()["events"] == []


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic abc", "Bearer "])
async def test_a_missing_or_wrong_token_is_a_401_problem(
    stack: Stack, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    r = await stack.client.get("/api/v1/events", headers=headers)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-type"] == "application/problem+json"
    assert "token" in r.json()["detail"] and r.json()["field"] == "Authorization"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?after=-1", "after"),
        ("?after=x", "after"),
        ("?limit=0", "limit"),
        ("?limit=5000", "limit"),
    ],
)
async def test_a_bad_parameter_is_a_422_problem_naming_it(
    stack: Stack, acct: TestAccount, query: str, field: str
) -> None:
    r = await replay(stack.client, acct, query)
    assert r.status_code == 422 and r.json()["field"] == field


async def test_two_nodes_on_one_database_replay_one_log_in_order(
    stack: Stack, acct: TestAccount, tmp_path: Path
) -> None:
    other = SqlStore(f"sqlite+aiosqlite:///{tmp_path}/smsgate.db", node_id=2)
    await other.open()
    try:
        accounts = AccountCache(other, ttl=0.0)
        gateway = Gateway(
            Submitter(other, accounts, IdGenerator(2)), accounts, other, Outbox(other)
        )
        app = build_app(gateway, _healthy, max_body=200_000)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node2.test") as node2:
            sent = []
            for i in range(6):
                client = stack.client if i % 2 == 0 else node2
                sent.append(await send(client, acct, f"text {i}"))
            for client in (stack.client, node2):
                events = (await replay(client, acct)).json()["events"]
                assert [e["seq"] for e in events] == [1, 2, 3, 4, 5, 6]
                assert [e["message_id"] for e in events] == sent
    finally:
        await other.close()


async def _healthy() -> dict[str, object]:
    return {"ok": True}
