"""The two native clients over a mock transport, for what a live node cannot show yet or cannot
show cheaply: the ledger followed across cursors and usage (their server is landing beside this
SDK), retries of a send repeating its key, and the blocking and asyncio faces agreeing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from smsgate.client import AsyncNativeClient, NativeClient, ServerError, Usage
from smsgate.client.account_models import LedgerEntry

from .fake_api import Sleeps

LEDGER = [
    {
        "type": "charge",
        "amount": "-0.50",
        "at": "2026-12-07T08:00:00Z",
        "message_id": str(n),
        "balance_after": str(Decimal(100) - Decimal("0.5") * n),
    }
    for n in range(5, 0, -1)
] + [
    {
        "type": "top_up",
        "amount": "100.00",
        "at": "2026-12-01T08:00:00Z",
        "message_id": None,
        "balance_after": "100.00",
    }
]

USAGE = {
    "from": "2026-12-01",
    "to": "2026-12-07",
    "group": "status",
    "rows": [
        {"key": "DELIVRD", "messages": 4, "parts": 5, "cost": "2.50"},
        {"key": "UNDELIV", "messages": 1, "parts": 1, "cost": "0.50"},
    ],
    "total": {"messages": 5, "parts": 6, "cost": "3.00"},
    "currency": "UAH",
}


def fake_native(seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    """The ledger two entries a page (the cursor is the next index) and usage."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/ledger":
            start = int(request.url.params.get("cursor", "0"))
            more = start + 2 < len(LEDGER)
            return httpx.Response(
                200,
                json={
                    "entries": LEDGER[start : start + 2],
                    "next_cursor": str(start + 2) if more else None,
                },
            )
        if request.url.path == "/api/v1/usage":
            return httpx.Response(200, json=USAGE)
        return httpx.Response(
            404, json={"type": "/api/v1/problems/not-found", "title": "Not Found", "status": 404}
        )

    return handle


def test_the_ledger_is_followed_across_cursors_and_usage_is_typed() -> None:
    seen: list[httpx.Request] = []
    with NativeClient(
        "http://api.test", "t", transport=httpx.MockTransport(fake_native(seen))
    ) as api:
        entries = list(api.ledger())
        usage = api.usage(date(2026, 12, 1), date(2026, 12, 7), group="status")
    assert [e.message_id for e in entries] == ["5", "4", "3", "2", "1", None]
    assert entries[-1] == LedgerEntry(
        "top_up", Decimal(100), datetime(2026, 12, 1, 8, tzinfo=UTC), None, Decimal(100)
    )
    assert sum(e.amount for e in entries) == entries[0].balance_after
    assert [r.url.params.get("cursor") for r in seen[:3]] == [None, "2", "4"]
    assert isinstance(usage, Usage) and usage.total.cost == Decimal("3.00")
    assert usage.currency == "UAH"
    assert [(r.key, r.messages) for r in usage.rows] == [("DELIVRD", 4), ("UNDELIV", 1)]
    assert dict(seen[-1].url.params) == {
        "from": "2026-12-01",
        "to": "2026-12-07",
        "group": "status",
    }


async def test_the_async_client_reads_the_same_ledger_lazily() -> None:
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(fake_native(seen))
    async with AsyncNativeClient("http://api.test", "t", transport=transport) as api:
        first_three = []
        async for entry in api.ledger():
            first_three.append(entry.message_id)
            if len(first_three) == 3:
                break
        page = await api.ledger_page(cursor="4")
    assert first_three == ["5", "4", "3"]
    assert len(seen) == 3  # two pages for three entries, then the page asked for
    assert [e.kind for e in page.entries] == ["charge", "top_up"] and page.next_cursor is None


SENT = {
    "messages": [],
    "send_at": None,
    "rejected": [],
    "total_price": "0",
    "currency": "UAH",
    "balance": "1",
}


def test_a_send_is_retried_with_the_same_key_after_5xx_and_a_key_in_flight() -> None:
    keys: list[str | None] = []
    answers = [
        httpx.Response(503, json={"type": "/x/internal", "title": "Unavailable", "status": 503}),
        httpx.Response(
            409,
            json={
                "type": "/api/v1/problems/idempotency-key-in-flight",
                "title": "x",
                "status": 409,
            },
            headers={"Retry-After": "1"},
        ),
        httpx.Response(201, json=SENT),
    ]

    def handle(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers.get("Idempotency-Key"))
        return answers[len(keys) - 1]

    sleeps = Sleeps()
    with NativeClient(
        "http://api.test", "t", transport=httpx.MockTransport(handle), sleep=sleeps, backoff=0.25
    ) as api:
        sent = api.send("380501234567", "Hi", "Shop")
    assert sent.balance == Decimal(1)
    assert len(keys) == 3 and len(set(keys)) == 1 and keys[0]
    assert sleeps == [0.25, 1.0]


def test_a_server_error_that_stays_is_raised_after_the_retries() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"type": "/x/internal", "title": "Boom", "status": 500})

    sleeps = Sleeps()
    with (
        NativeClient(
            "http://api.test", "t", transport=httpx.MockTransport(handle), sleep=sleeps, retries=2
        ) as api,
        pytest.raises(ServerError) as error,
    ):
        api.balance()
    assert error.value.status_code == 500 and error.value.message == "Boom"
    assert len(sleeps) == 2
