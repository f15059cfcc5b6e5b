"""`AsyncClient`: the asyncio face of the SDK. Everything but the transport is shared with
`Client` — each method builds a `protocol` call and lets `exchange` run it.

Must not parse, map errors or decide retries itself: that would make the two faces drift apart;
the httpx edge is `session.py`, shared with the native clients.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import TypeVar

import httpx

from . import protocol
from .models import Balance, SendResult, StatusReport
from .protocol import Call, PhoneLike, Phones
from .retry import RetryPolicy
from .session import AsyncSession

P = TypeVar("P")
T = TypeVar("T")


class AsyncClient:
    """A client of the SMS Club-compatible JSON API (smsgate, or https://im.smsclub.mobi).

    >>> async with AsyncClient("http://127.0.0.1:8080", token) as sms:
    ...     result = await sms.send(["380501234567"], "Hello", "Shop")
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._session = AsyncSession(
            base_url,
            token,
            timeout=timeout,
            policy=RetryPolicy(retries=retries, backoff=backoff),
            transport=transport,
            sleep=sleep,
        )

    async def send(
        self,
        phones: Phones,
        text: str,
        sender: str,
        *,
        lifetime: float | None = None,
        integration_id: str | None = None,
    ) -> SendResult:
        """Send one text to each phone; lists over 100 are sent in several requests and merged."""
        call = protocol.send_call(
            phones, text, sender, lifetime=lifetime, integration_id=integration_id
        )
        return await self._run(call)

    async def send_personal(
        self,
        items: Iterable[tuple[PhoneLike, str]],
        sender: str,
        *,
        lifetime: float | None = None,
    ) -> SendResult:
        """Send each (phone, text) pair its own text (`/v2/sms/send`)."""
        return await self._run(protocol.send_personal_call(items, sender, lifetime=lifetime))

    async def status(self, ids: Phones) -> StatusReport:
        """Status by id; ids the server does not know are in the result's `unknown`."""
        return await self._run(protocol.status_call(ids))

    async def balance(self) -> Balance:
        return await self._run(protocol.balance_call())

    async def senders(self) -> list[str]:
        """The account's active sender names (originators)."""
        return await self._run(protocol.senders_call())

    async def aclose(self) -> None:
        await self._session.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self, call: Call[P, T]) -> T:
        return await self._session.run(call)
