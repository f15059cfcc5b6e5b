"""GET /api/v1/messages: the account's messages newest first, filtered, in pages whose cursors
hold while new messages arrive; bad filters and cursors are problems naming the field."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from smsgate.doors.native.models import MessagePage

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

PHONE = "380501234567"
PHONE2 = "380671234567"


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("alice")


async def send(stack: Stack, acct: TestAccount, to: str, text: str) -> str:
    r = await stack.client.post(
        "/api/v1/messages", headers=acct.auth, json={"sender": "Shop", "to": [to], "text": text}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["messages"][0]["id"])


async def test_pages_are_newest_first_and_stable_while_messages_arrive(
    stack: Stack, acct: TestAccount
) -> None:
    ids = [await send(stack, acct, PHONE, f"m{n}") for n in range(7)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        r = await stack.client.get("/api/v1/messages", headers=acct.auth, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        MessagePage.model_validate(page)  # the shape the OpenAPI document gives
        assert all(m["created_at"].endswith("Z") for m in page["messages"])
        seen.extend(m["id"] for m in page["messages"])
        await send(stack, acct, PHONE2, f"late {len(seen)}")  # arrives between pages
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]


async def test_filters_by_phone_as_given_status_and_time(stack: Stack, acct: TestAccount) -> None:
    mine = await send(stack, acct, PHONE, "a")
    await send(stack, acct, PHONE2, "b")
    r = await stack.client.get(
        "/api/v1/messages", headers=acct.auth, params={"phone": "+380 50 123 45 67"}
    )
    assert [m["id"] for m in r.json()["messages"]] == [mine]
    r = await stack.client.get("/api/v1/messages", headers=acct.auth, params={"status": "DELIVRD"})
    assert r.json() == {"messages": [], "next_cursor": None}
    r = await stack.client.get(
        "/api/v1/messages", headers=acct.auth, params={"since": "2100-01-01T00:00:00Z"}
    )
    assert r.json()["messages"] == []


async def test_other_accounts_messages_are_not_listed(stack: Stack, acct: TestAccount) -> None:
    await send(stack, acct, PHONE, "mine")
    other = await stack.account("bob")
    r = await stack.client.get("/api/v1/messages", headers=other.auth)
    assert r.json()["messages"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "garbage"}, "cursor"),
        ({"phone": "not a phone"}, "phone"),
        ({"status": "LOST"}, "status"),
        ({"limit": 0}, "limit"),
        ({"since": "2026-12-07T10:00:00"}, "since"),
    ],
)
async def test_bad_filters_are_problems_naming_the_field(
    stack: Stack, acct: TestAccount, params: dict[str, str | int], field: str
) -> None:
    r = await stack.client.get("/api/v1/messages", headers=acct.auth, params=params)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
