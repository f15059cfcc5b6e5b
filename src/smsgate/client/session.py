"""The I/O edge every client stands on: an httpx client configured once, which runs a `Call`
through the shared conversation (`exchange.py`) and reads a `Paging` listing page by page.

`SyncSession` and `AsyncSession` differ only in the transport; they decide nothing about
requests, answers or retries, so the SMS Club client and the native client cannot drift apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

import httpx

from .errors import TransportError
from .exchange import conversation, drive_async, drive_sync
from .http_edge import build_request, default_headers, to_response, to_transport_error
from .protocol import ApiRequest, ApiResponse, Call, Paging
from .retry import RetryPolicy

P = TypeVar("P")
T = TypeVar("T")


class SyncSession:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float,
        policy: RetryPolicy,
        transport: httpx.BaseTransport | None,
        sleep: Callable[[float], object],
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            headers=default_headers(token),
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )
        self._policy = policy
        self._sleep = sleep

    def run(self, call: Call[P, T]) -> T:
        return drive_sync(conversation(call, self._policy), self._exchange, self._sleep)

    def pages(self, paging: Paging[P, T]) -> Iterator[T]:
        """The items of every page, fetching the next page only when these run out."""
        call: Call[P, P] | None = paging.first
        while call is not None:
            page = self.run(call)
            yield from paging.items(page)
            call = paging.after(page)

    def close(self) -> None:
        self._http.close()

    def _exchange(self, request: ApiRequest) -> ApiResponse | TransportError:
        http_request = build_request(self._http, request)
        try:
            return to_response(self._http.send(http_request))
        except httpx.TransportError as exc:
            return to_transport_error(exc, http_request)


class AsyncSession:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float,
        policy: RetryPolicy,
        transport: httpx.AsyncBaseTransport | None,
        sleep: Callable[[float], Awaitable[object]],
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=default_headers(token),
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )
        self._policy = policy
        self._sleep = sleep

    async def run(self, call: Call[P, T]) -> T:
        return await drive_async(conversation(call, self._policy), self._exchange, self._sleep)

    async def pages(self, paging: Paging[P, T]) -> AsyncIterator[T]:
        """The items of every page, fetching the next page only when these run out."""
        call: Call[P, P] | None = paging.first
        while call is not None:
            page = await self.run(call)
            for item in paging.items(page):
                yield item
            call = paging.after(page)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _exchange(self, request: ApiRequest) -> ApiResponse | TransportError:
        http_request = build_request(self._http, request)
        try:
            return to_response(await self._http.send(http_request))
        except httpx.TransportError as exc:
            return to_transport_error(exc, http_request)
