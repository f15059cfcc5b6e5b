"""Two nodes on one database, each with its own store, gateway and API: one Idempotency-Key sent
to both at once sends once (the store decides which node is first), and a retry on either node
later returns the first answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from smsgate.domain.ids import IdGenerator
from smsgate.doors.app import build_app
from smsgate.gateway.accounts import AccountCache
from smsgate.gateway.facade import Gateway
from smsgate.gateway.outbox.outbox import Outbox
from smsgate.gateway.submit import Submitter
from smsgate.store.records import MessageFilter
from smsgate.store.sql_store import SqlStore

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount


async def _healthy() -> dict[str, object]:
    return {"ok": True}


@pytest.fixture
async def node2(stack: Stack, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A second node on the stack's database (tests/conftest.py), node id 2."""
    other = SqlStore(f"sqlite+aiosqlite:///{tmp_path}/smsgate.db", node_id=2)
    await other.open()
    try:
        accounts = AccountCache(other, ttl=0.0)
        gateway = Gateway(
            Submitter(other, accounts, IdGenerator(2)), accounts, other, Outbox(other)
        )
        app = build_app(gateway, _healthy, max_body=200_000)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node2.test") as c:
            yield c
    finally:
        await other.close()


async def test_one_key_sent_to_two_nodes_at_once_sends_once(
    stack: Stack, node2: httpx.AsyncClient
) -> None:
    acct: TestAccount = await stack.account("alice", balance=100 * 10_000)
    before = (await stack.client.get("/api/v1/balance", headers=acct.auth)).json()["balance"]
    rounds = 6
    for n in range(rounds):
        headers = {**acct.auth, "Idempotency-Key": f"both-{n}"}
        body = {"sender": "Shop", "to": ["380501234567"], "text": f"once {n}"}
        answers = await asyncio.gather(
            stack.client.post("/api/v1/messages", headers=headers, json=body),
            node2.post("/api/v1/messages", headers=headers, json=body),
        )
        statuses = sorted(a.status_code for a in answers)
        # One node serves it; the other sees its answer, or that it is still being served.
        assert statuses in ([201, 201], [201, 409]), [a.text for a in answers]
        (first,) = {a.content for a in answers if a.status_code == 201}
        # Later, on either node, the first answer again.
        for client in (stack.client, node2):
            again = await client.post("/api/v1/messages", headers=headers, json=body)
            assert (again.status_code, again.content) == (201, first)
    found = await stack.store.search_messages(acct.record.id, MessageFilter(), 100)
    assert sorted(m.text for m in found) == sorted(f"once {n}" for n in range(rounds))
    after = (await node2.get("/api/v1/balance", headers=acct.auth)).json()["balance"]
    assert float(before) - float(after) == pytest.approx(rounds * 0.5)
