"""`AsyncClient` against httpx.MockTransport: the same operations, errors, splitting and retry
rules as `Client`, since both run the one shared conversation. The sleep is an injected coroutine
and every await is bounded by a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from decimal import Decimal
from typing import TypeVar

import httpx
import pytest

from smsgate.client import (
    AsyncClient,
    AuthenticationError,
    Balance,
    DuplicateError,
    RateLimitedError,
    ServerError,
    Status,
    TransportError,
    ValidationError,
)

from .fake_api import SENDER, TOKEN, FakeApi, Sleeps, top_level


@pytest.fixture
async def client(api: FakeApi, sleeps: Sleeps) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(
        "http://gateway.test", TOKEN, transport=api.transport(), sleep=sleeps.asleep
    ) as c:
        yield c


T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float = 5.0) -> T:
    return await asyncio.wait_for(awaitable, seconds)


async def test_send_returns_accepted_and_rejected(client: AsyncClient) -> None:
    result = await within(client.send(["380501234567", "bogus"], "Hello", SENDER))
    assert list(result.accepted.values()) == ["380501234567"]
    assert result.rejected == {"bogus": "Invalid phone number"}


async def test_send_personal_over_100_is_split_and_merged_in_order(
    client: AsyncClient, api: FakeApi
) -> None:
    items = [(f"380500{n:06d}", f"text {n}") for n in range(230)]
    result = await within(client.send_personal(items, SENDER))
    assert [len(s.body["data_message"]) for s in api.seen] == [100, 100, 30]
    assert list(result.accepted.values()) == [phone for phone, _ in items]


async def test_send_over_100_is_split_and_merged_in_order(
    client: AsyncClient, api: FakeApi
) -> None:
    phones = [f"380500{n:06d}" for n in range(101)]
    result = await within(client.send(phones, "Hello", SENDER))
    assert [len(s.body["phone"]) for s in api.seen] == [100, 1]
    assert list(result.accepted.values()) == phones


async def test_status_balance_and_senders(client: AsyncClient, api: FakeApi) -> None:
    ids = (await within(client.send(["380501234567"], "Hello", SENDER))).ids
    api.statuses[ids[0]] = "UNDELIV"
    report = await within(client.status([ids[0], "42"]))
    assert dict(report) == {ids[0]: Status.UNDELIV}
    assert report.unknown == {"42": "Message not found"}
    assert await within(client.balance()) == Balance(Decimal("8111.1700"), "UAH")
    assert await within(client.senders()) == [SENDER, "Info"]


async def test_a_wrong_token_is_not_retried(api: FakeApi, sleeps: Sleeps) -> None:
    async with AsyncClient(
        "http://gateway.test", "wrong", transport=api.transport(), sleep=sleeps.asleep
    ) as c:
        with pytest.raises(AuthenticationError):
            await within(c.balance())
    assert len(api.seen) == 1
    assert sleeps == []


async def test_validation_and_duplicates_are_not_retried(
    client: AsyncClient, api: FakeApi, sleeps: Sleeps
) -> None:
    with pytest.raises(ValidationError) as raised:
        await within(client.send(["380501234567"], "Hello", "Nobody"))
    assert raised.value.fields == {"src_addr": "Sender name is not active"}
    api.script(top_level("Duplicate", "Doubled SMS in less than 2 minutes.", 453))
    with pytest.raises(DuplicateError):
        await within(client.send(["380501234567"], "Hello", SENDER))
    assert len(api.seen) == 2
    assert sleeps == []


async def test_429_waits_for_retry_after(client: AsyncClient, api: FakeApi, sleeps: Sleeps) -> None:
    api.script(top_level("Too Many Requests", "Rate limit exceeded.", 429, **{"Retry-After": "3"}))
    assert await within(client.senders()) == [SENDER, "Info"]
    assert sleeps == [3.0]


async def test_persistent_429_raises_rate_limited(
    client: AsyncClient, api: FakeApi, sleeps: Sleeps
) -> None:
    api.script(*[top_level("Too Many Requests", "Rate limit exceeded.", 429)] * 4)
    with pytest.raises(RateLimitedError) as raised:
        await within(client.balance())
    assert raised.value.retry_after is None
    assert sleeps == [0.5, 1.0, 2.0]


async def test_5xx_and_connection_errors_are_retried(
    client: AsyncClient, api: FakeApi, sleeps: Sleeps
) -> None:
    api.script(top_level("Internal Server Error", "boom", 503), httpx.ConnectError("refused"))
    assert (await within(client.balance())).currency == "UAH"
    assert sleeps == [0.5, 1.0]


async def test_persistent_failures_raise_their_kind(client: AsyncClient, api: FakeApi) -> None:
    api.script(*[top_level("Internal Server Error", "boom", 500)] * 4)
    with pytest.raises(ServerError):
        await within(client.balance())
    api.script(*[httpx.ConnectTimeout("connect timed out")] * 4)
    with pytest.raises(TransportError, match="timed out"):
        await within(client.balance())
