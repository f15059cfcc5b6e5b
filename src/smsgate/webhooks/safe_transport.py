"""An httpx transport that resolves each host itself, refuses the connection if any address it
resolves to is unsafe (url_safety.address_problem), and connects to a checked address.

Why at connect time as well as when the URL is configured: DNS may answer with a private
address later (a changed record, DNS rebinding). Checking every address, then connecting to one
of those very addresses, leaves no second lookup to race. TLS still verifies the certificate
against the URL's host name: httpcore takes SNI from the request, not from the address.
Proxies from the environment are ignored, since a proxy would make the connection for us.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore
import httpx

from smsgate.webhooks.url_safety import UnsafeUrl, address_problem

Resolver = Callable[[str, int], Awaitable[list[str]]]


class AddressRefused(UnsafeUrl):
    """The host resolved to an address smsgate must not call."""


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`, in its order, without repeats."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def checked_addresses(
    host: str, port: int, *, allow_private: bool, resolver: Resolver = system_resolver
) -> list[str]:
    """The addresses of `host`, each one checked; AddressRefused if any one is unsafe (a host
    with one bad address is refused whole, since the caller cannot know which one it would
    reach)."""
    try:
        addresses = await resolver(host, port)
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise httpcore.ConnectError(f"{host} resolves to no address")
    for text in addresses:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise AddressRefused(f"{host} resolves to {text!r}, not an IP address") from None
        problem = address_problem(address, allow_private=allow_private)
        if problem is not None:
            raise AddressRefused(f"{host} resolves to {text}, {problem}")
    return addresses


class SafeNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the check in front of every new TCP connection."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await checked_addresses(
            host, port, allow_private=self._allow_private, resolver=self._resolver
        )
        last: Exception | None = None
        for address in addresses:  # next address only when one refuses the connection
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("webhooks are never sent over a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def safe_transport(
    *,
    allow_private: bool,
    limits: httpx.Limits,
    resolver: Resolver = system_resolver,
) -> httpx.AsyncHTTPTransport:
    """An AsyncHTTPTransport (HTTP/1.1, keep-alive pool of `limits`) whose connections go
    through SafeNetworkBackend."""
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    # httpx does not take a network backend, so its pool is rebuilt with ours and the same
    # settings; tests/webhooks/test_safe_transport.py fails if httpx stops using `_pool`.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=SafeNetworkBackend(allow_private=allow_private, resolver=resolver),
    )
    return transport
