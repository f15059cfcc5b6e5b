"""Sends one webhook or callback request over a shared keep-alive httpx pool and returns what
happened as an Attempt (status, latency, error text).

It never retries, never reads the store, never follows a redirect and never reads more than
`max_response_bytes` of an answer (raw, undecoded, so a compressed bomb stays small). Every
connection goes through safe_transport, and every URL is checked again before it is used.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType

import httpx

from smsgate.record import record
from smsgate.webhooks.attempt import Attempt, Failure, OutgoingRequest
from smsgate.webhooks.safe_transport import Resolver, safe_transport, system_resolver
from smsgate.webhooks.url_safety import UnsafeUrl, check_url

USER_AGENT = "smsgate-webhooks/1"
_ERROR_EXCERPT = 200  # characters of a refusing receiver's body kept in the error text


@record
class SenderSettings:
    connect_timeout: float = 5.0
    total_timeout: float = 15.0  # from the first byte sent to the last byte read
    max_response_bytes: int = 64 * 1024
    max_connections: int = 256  # across all endpoints; keep-alive ones are reused
    keepalive_expiry: float = 30.0
    allow_private: bool = False  # loopback and private addresses (the `make run` demo)


class HttpSender:
    """One per process; `send` may be called from many tasks at once."""

    def __init__(
        self,
        settings: SenderSettings | None = None,
        *,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.settings = s = settings if settings is not None else SenderSettings()
        limits = httpx.Limits(
            max_connections=s.max_connections,
            max_keepalive_connections=s.max_connections,
            keepalive_expiry=s.keepalive_expiry,
        )
        self._client = httpx.AsyncClient(
            transport=safe_transport(
                allow_private=s.allow_private, limits=limits, resolver=resolver
            ),
            timeout=httpx.Timeout(s.total_timeout, connect=s.connect_timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT, "accept-encoding": "identity"},
        )

    async def send(self, request: OutgoingRequest) -> Attempt:
        started = time.perf_counter()
        try:
            check_url(request.url, allow_private=self.settings.allow_private)
            async with asyncio.timeout(self.settings.total_timeout):
                return await self._exchange(request, started)
        except UnsafeUrl as exc:  # includes safe_transport.AddressRefused
            return _failed(started, Failure.URL_REFUSED, str(exc))
        except httpx.ConnectTimeout:
            limit = self.settings.connect_timeout
            return _failed(started, Failure.TIMEOUT, f"timed out connecting (limit {limit:g} s)")
        except (TimeoutError, httpx.TimeoutException):
            limit = self.settings.total_timeout
            return _failed(started, Failure.TIMEOUT, f"no answer in time (limit {limit:g} s)")
        except httpx.ConnectError as exc:
            return _failed(started, Failure.CONNECT, f"cannot connect: {exc}")
        except httpx.TransportError as exc:
            return _failed(started, Failure.TRANSPORT, f"{type(exc).__name__}: {exc}")

    async def _exchange(self, request: OutgoingRequest, started: float) -> Attempt:
        cap = self.settings.max_response_bytes
        async with self._client.stream(
            request.method, request.url, headers=list(request.headers), content=request.body
        ) as response:
            body = bytearray()
            truncated = False
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > cap:
                    # Leaving the stream unread closes this connection instead of reusing it.
                    del body[cap:]
                    truncated = True
                    break
        status = response.status_code
        return Attempt(
            status=status,
            latency=time.perf_counter() - started,
            error=None if 200 <= status < 300 else _refusal(response, bytes(body)),
            retry_after=response.headers.get("retry-after"),
            body=bytes(body),
            truncated=truncated,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> HttpSender:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _refusal(response: httpx.Response, body: bytes) -> str:
    status = response.status_code
    if 300 <= status < 400:
        where = response.headers.get("location", "nowhere")
        return f"HTTP {status}: redirect to {where} not followed; configure the final URL"
    excerpt = body[:_ERROR_EXCERPT].decode("utf-8", "replace").strip()
    return f"HTTP {status}: {excerpt}" if excerpt else f"HTTP {status}"


def _failed(started: float, failure: Failure, error: str) -> Attempt:
    return Attempt(None, time.perf_counter() - started, error, failure)
