"""Opens a webhook connection only to a checked address: resolves the host itself, refuses it if
any address it resolves to is unsafe (url_safety.address_problem), and connects to one of those
very addresses (TLS on top when asked, verified against the URL's host name).

Why at connect time as well as when the URL is configured: DNS may answer with a private
address later (a changed record, DNS rebinding). Checking every address, then connecting to one
of those very addresses, leaves no second lookup to race. No proxy is ever used: a proxy would
make the connection for us, so environment variables such as HTTP_PROXY are not read.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import TypeVar

from smsgate.webhooks.url_safety import UnsafeUrl, address_problem, check_url

Resolver = Callable[[str, int], Awaitable[list[str]]]
P = TypeVar("P", bound=asyncio.Protocol)


class AddressRefused(UnsafeUrl):
    """The host resolved to an address smsgate must not call."""


class ConnectFailed(ConnectionError):
    """No connection: the name did not resolve, every address refused, or TLS failed."""


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
        raise ConnectFailed(f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise ConnectFailed(f"{host} resolves to no address")
    for text in addresses:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise AddressRefused(f"{host} resolves to {text!r}, not an IP address") from None
        problem = address_problem(address, allow_private=allow_private)
        if problem is not None:
            raise AddressRefused(f"{host} resolves to {text}, {problem}")
    return addresses


async def check_endpoint_url(
    url: str,
    *,
    allow_private: bool,
    resolver: Resolver = system_resolver,
    wait: float = 5.0,
) -> None:
    """url_safety.check_url, and for a host name the addresses it resolves to now: an endpoint
    whose name points at a loopback or private address is refused when it is configured (a
    clear error then, not a dead letter at its first event). UnsafeUrl says why.

    A name that does not resolve within `wait` seconds, or not at all, is taken: it may not be
    live yet, and every connection checks its addresses again anyway. Not for per-message
    callback URLs: a send must not wait for DNS."""
    parsed = check_url(url, allow_private=allow_private)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        async with asyncio.timeout(wait):
            await checked_addresses(
                parsed.raw_host.decode("ascii"),
                port,
                allow_private=allow_private,
                resolver=resolver,
            )
    except (ConnectFailed, TimeoutError):
        return


async def connect_checked(
    protocol_factory: Callable[[], P],
    host: str,
    port: int,
    *,
    allow_private: bool,
    tls: ssl.SSLContext | None = None,
    resolver: Resolver = system_resolver,
) -> tuple[asyncio.Transport, P]:
    """A connection to a checked address of `host` (the next address only when one refuses
    the TCP connection). With `tls`, the handshake verifies the certificate against `host`,
    never against the address. The caller bounds the time it may take."""
    addresses = await checked_addresses(host, port, allow_private=allow_private, resolver=resolver)
    loop = asyncio.get_running_loop()
    last: OSError | None = None
    for address in addresses:
        try:
            # A literal address: asyncio connects to it without a second lookup.
            transport, protocol = await loop.create_connection(
                protocol_factory,
                address,
                port,
                ssl=tls,
                server_hostname=host if tls is not None else None,
            )
        except ssl.SSLError as exc:  # the address answered; its certificate is the problem
            raise ConnectFailed(f"TLS with {host} failed: {exc}") from exc
        except OSError as exc:
            last = exc
            continue
        return transport, protocol
    raise ConnectFailed(f"cannot connect to {host} port {port}: {last}") from last
