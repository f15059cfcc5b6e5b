"""IdempotentCalls over the memory store: the first caller serves, a retry gets its answer,
another body is refused, a request still being served is said to be, and a request that
failed or was cancelled gives its key back."""

from __future__ import annotations

import asyncio

import pytest

from smsgate.gateway.errors import InvalidRequest, RateLimited
from smsgate.gateway.idempotency import Answer, IdempotentCalls, KeyInFlight, KeyReused
from smsgate.store.memory import MemoryStore


@pytest.fixture
async def calls_and_account() -> tuple[IdempotentCalls, int]:
    store = MemoryStore()
    account = await store.create_account("shop")
    return IdempotentCalls(store, clock=lambda: 1000.0), account.id


async def test_a_retry_gets_the_first_answer_without_serving_again(
    calls_and_account: tuple[IdempotentCalls, int],
) -> None:
    calls, account = calls_and_account
    served: list[int] = []

    async def serve() -> Answer:
        served.append(1)
        return Answer(201, b"first")

    assert await calls.once(account, "k", b"body", serve) == Answer(201, b"first")
    assert await calls.once(account, "k", b"body", serve) == Answer(201, b"first")
    assert served == [1]
    with pytest.raises(KeyReused):
        await calls.once(account, "k", b"another body", serve)


async def test_a_key_in_flight_is_refused_until_answered(
    calls_and_account: tuple[IdempotentCalls, int],
) -> None:
    calls, account = calls_and_account
    release = asyncio.Event()

    async def slow() -> Answer:
        await release.wait()
        return Answer(201, b"slow")

    first = asyncio.ensure_future(calls.once(account, "k", b"b", slow))
    await asyncio.sleep(0.01)
    with pytest.raises(KeyInFlight):
        await calls.once(account, "k", b"b", slow)
    release.set()
    assert await asyncio.wait_for(first, 5) == Answer(201, b"slow")
    assert await calls.once(account, "k", b"b", slow) == Answer(201, b"slow")


async def test_a_failed_or_cancelled_request_frees_its_key(
    calls_and_account: tuple[IdempotentCalls, int],
) -> None:
    calls, account = calls_and_account

    async def refused() -> Answer:
        raise RateLimited(1.0)

    with pytest.raises(RateLimited):
        await calls.once(account, "k", b"b", refused)

    async def hangs() -> Answer:
        await asyncio.Event().wait()
        raise AssertionError("never")

    pending = asyncio.ensure_future(calls.once(account, "c", b"b", hangs))
    await asyncio.sleep(0.01)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending

    async def works() -> Answer:
        return Answer(201, b"ok")

    assert await calls.once(account, "k", b"b", works) == Answer(201, b"ok")
    assert await calls.once(account, "c", b"b", works) == Answer(201, b"ok")


@pytest.mark.parametrize("key", ["", " lead", "x" * 256, "ключ", "tab\there"])
async def test_a_malformed_key_is_invalid(
    calls_and_account: tuple[IdempotentCalls, int], key: str
) -> None:
    calls, account = calls_and_account

    async def serve() -> Answer:
        return Answer(201, b"")

    with pytest.raises(InvalidRequest) as caught:
        await calls.once(account, key, b"b", serve)
    assert caught.value.field == "Idempotency-Key"
