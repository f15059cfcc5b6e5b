"""GET /api/v1/inbound: an account's inbound SMS after an id, in pages, only its own; bad input
and missing credentials are problems (RFC 9457) naming the field."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from smsgate.store.records import NewInbound

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount


def _mo(text: str, account_id: int | None) -> NewInbound:
    return NewInbound("380501112233", "7000", text, 0, 1, 1, "op", 100.0, account_id)


async def test_pages_of_the_accounts_own_inbound_sms(stack: Stack) -> None:
    alice: TestAccount = await stack.account("alice")
    bob: TestAccount = await stack.account("bob")
    await stack.store.store_inbound(
        [_mo("a1", alice.record.id), _mo("b1", bob.record.id), _mo("a2", alice.record.id)]
    )
    headers = {"Authorization": f"Bearer {alice.token}"}
    first = (await stack.client.get("/api/v1/inbound?limit=1", headers=headers)).json()
    assert [m["text"] for m in first["data"]] == ["a1"]
    assert first["data"][0]["complete"] is True
    r = await stack.client.get(f"/api/v1/inbound?after={first['next_after']}", headers=headers)
    assert [m["text"] for m in r.json()["data"]] == ["a2"]


async def test_no_token_is_a_401_problem(stack: Stack) -> None:
    r = await stack.client.get("/api/v1/inbound")
    assert r.status_code == 401
    assert r.json()["type"].endswith("/unauthorized")
    wrong = {"Authorization": "Bearer nope"}
    assert (await stack.client.get("/api/v1/inbound", headers=wrong)).status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("after=-1", "after"),
        ("after=x", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("since=3", "since"),  # a filter this path does not have is not ignored
    ],
)
async def test_bad_query_is_a_422_naming_the_parameter(
    stack: Stack, query: str, field: str
) -> None:
    alice = await stack.account("alice")
    r = await stack.client.get(
        f"/api/v1/inbound?{query}", headers={"Authorization": f"Bearer {alice.token}"}
    )
    assert r.status_code == 422
    assert r.json()["field"] == field


async def test_other_methods_are_a_405_problem(stack: Stack) -> None:
    r = await stack.client.post("/api/v1/inbound")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    assert r.json()["type"].endswith("/method-not-allowed")
