"""GET /api/v1/ledger and GET /api/v1/usage: the account's money line by line (its sum is the
balance, each line with the balance after it, pages that hold while money moves), and what its
messages cost by day, status or country; bad days, periods and cursors are problems naming the
field."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

PROBLEM = "application/problem+json"


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("alice")


async def send(stack: Stack, acct: TestAccount, to: str, text: str) -> str:
    r = await stack.client.post(
        "/api/v1/messages", headers=acct.auth, json={"sender": "Shop", "to": [to], "text": text}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["messages"][0]["id"])


async def whole_ledger(stack: Stack, acct: TestAccount, limit: int) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        r = await stack.client.get("/api/v1/ledger", headers=acct.auth, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        lines.extend(page["entries"])
        cursor = page["next_cursor"]
        if cursor is None:
            return lines


async def test_the_ledger_lists_top_ups_charges_and_refunds_summing_to_the_balance(
    stack: Stack, acct: TestAccount
) -> None:
    kept = await send(stack, acct, "380501234567", "kept")
    cancelled = await send(stack, acct, "380671234567", "cancelled")
    r = await stack.client.delete(f"/api/v1/messages/{cancelled}", headers=acct.auth)
    assert r.status_code == 200, r.text

    lines = await whole_ledger(stack, acct, 50)
    assert [(line["type"], line["message_id"]) for line in lines] == [
        ("refund", cancelled),
        ("charge", cancelled),
        ("charge", kept),
        ("top_up", None),
    ]
    balance = (await stack.client.get("/api/v1/balance", headers=acct.auth)).json()["balance"]
    assert sum(Decimal(line["amount"]) for line in lines) == Decimal(balance)
    assert lines[0]["balance_after"] == balance
    for newer, older in itertools.pairwise(lines):
        assert Decimal(older["balance_after"]) == Decimal(newer["balance_after"]) - Decimal(
            newer["amount"]
        )
    assert lines[-1]["balance_after"] == lines[-1]["amount"] == "1000.0000"


async def test_ledger_pages_hold_while_money_moves(stack: Stack, acct: TestAccount) -> None:
    for n in range(5):
        await send(stack, acct, "380501234567", f"m{n}")
    whole = await whole_ledger(stack, acct, 100)
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await stack.client.get("/api/v1/ledger", headers=acct.auth, params=params)).json()
        seen.extend(page["entries"])
        await send(stack, acct, "380671234567", f"late {len(seen)}")  # lands between pages
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == whole


async def test_usage_by_day_status_and_country(stack: Stack, acct: TestAccount) -> None:
    await send(stack, acct, "380501234567", "one")
    await send(stack, acct, "447911123456", "two")
    today = datetime.now(UTC).date()
    # A test that runs over midnight UTC sees its messages on either day.
    first, last = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()
    r = await stack.client.get(
        "/api/v1/usage", headers=acct.auth, params={"from": first, "to": last, "group": "country"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    price = (await whole_ledger(stack, acct, 10))[0]["amount"].lstrip("-")
    assert body == {
        "from": first,
        "to": last,
        "group": "country",
        "rows": [
            {"key": "GB", "messages": 1, "parts": 1, "cost": price},
            {"key": "UA", "messages": 1, "parts": 1, "cost": price},
        ],
        "total": {"messages": 2, "parts": 2, "cost": str(Decimal(price) * 2)},
        "currency": "UAH",
    }
    by_status = await stack.client.get(
        "/api/v1/usage", headers=acct.auth, params={"from": first, "to": last, "group": "status"}
    )
    assert [(row["key"], row["messages"]) for row in by_status.json()["rows"]] == [("ENROUTE", 2)]
    by_day = await stack.client.get(
        "/api/v1/usage", headers=acct.auth, params={"from": first, "to": last}
    )
    assert by_day.json()["group"] == "day"
    assert sum(row["messages"] for row in by_day.json()["rows"]) == 2
    assert all(first <= row["key"] <= last for row in by_day.json()["rows"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01", "to": "2026-12-31"}, "from"),
        ({"from": "2026-12-01", "to": "tomorrow"}, "to"),
        ({"from": "2026-12-08", "to": "2026-12-07"}, "from"),
        ({"from": "2025-01-01", "to": "2026-12-31"}, "to"),
        ({"from": "2026-12-01", "to": "2026-12-07", "group": "week"}, "group"),
        ({"to": "2026-12-07"}, "from"),
    ],
)
async def test_bad_usage_periods_are_problems_naming_the_field(
    stack: Stack, acct: TestAccount, params: dict[str, str], field: str
) -> None:
    r = await stack.client.get("/api/v1/usage", headers=acct.auth, params=params)
    assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
    assert r.json()["field"] == field


@pytest.mark.parametrize("cursor", ["garbage", "bDE6Mjox", "bHg6eDp4Ong"])
async def test_a_cursor_the_api_did_not_give_is_a_problem(
    stack: Stack, acct: TestAccount, cursor: str
) -> None:
    r = await stack.client.get("/api/v1/ledger", headers=acct.auth, params={"cursor": cursor})
    assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM)
    assert r.json()["field"] == "cursor"


async def test_money_endpoints_need_a_token(stack: Stack) -> None:
    for path in ("/api/v1/ledger", "/api/v1/usage?from=2026-12-01&to=2026-12-02"):
        r = await stack.client.get(path)
        assert (r.status_code, r.headers["content-type"]) == (401, PROBLEM)
