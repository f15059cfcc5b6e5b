"""Which webhook and callback URLs smsgate may call (SSRF): http(s) only, at most 2,000
characters, and never a loopback, private, link-local, multicast or reserved address unless the
configuration allows loopback and private ones (the `make run` demo does).

Pure: `check_url` judges a URL as written (literal addresses, numeric host tricks, localhost
names) and `address_problem` one resolved address; resolving and connecting to the checked
address is `safe_transport.py`'s job, since DNS may answer differently at send time.
"""

from __future__ import annotations

import ipaddress
import socket

import httpx

MAX_URL_LENGTH = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Private ranges a demo or an on-premises receiver may use when the configuration allows it.
# Link-local (169.254/16 holds cloud metadata services), multicast, unspecified and reserved
# addresses stay refused even then: no legitimate receiver lives there.
_PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class UnsafeUrl(ValueError):
    """A URL smsgate refuses to call; the message says why, for the door to show."""


def address_problem(address: IPAddress, *, allow_private: bool) -> str | None:
    """What kind of address `address` is when it may not be called ("a loopback address"), or
    None when it may."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_problem(embedded, allow_private=allow_private)
    if address.is_loopback:
        return None if allow_private else "a loopback address"
    if any(address in net for net in _PRIVATE if net.version == address.version):
        return None if allow_private else "a private address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private or address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and reaches: IPv4-mapped (::ffff:a.b.c.d), 6to4
    (2002::/16) and NAT64 (64:ff9b::/96); a mapped loopback reaches loopback."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """The URL parsed as the sender will use it, or UnsafeUrl saying what is wrong with it.

    A host name is judged here only by its name (localhost); what it resolves to is checked
    again at every connection, so a name that later points inside is still refused.
    """
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"URL is {len(url)} characters long; at most {MAX_URL_LENGTH}")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeUrl(f"URL cannot be parsed: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeUrl("URL must start with http:// or https://")
    host = parsed.host
    if not host:
        raise UnsafeUrl("URL has no host")
    if "%" in host:
        raise UnsafeUrl("URL host must not contain '%' (zone ids and escapes are refused)")
    literal = _literal_address(host.rstrip("."))
    if literal is not None:
        problem = address_problem(literal, allow_private=allow_private)
        if problem is not None:
            raise UnsafeUrl(f"URL points at {host}, {problem}")
        return parsed
    name = host.rstrip(".").lower()
    if not allow_private and (name in _LOCAL_NAMES or name.endswith(".localhost")):
        raise UnsafeUrl(f"URL points at {host}, a loopback name")
    return parsed


def _literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal means, or None for a name.

    Hosts that the C resolver reads as IPv4 though they are not four decimal numbers
    ("2130706433", "0x7f.1", "0177.0.0.1", "127.1") are refused outright: they exist to slip
    past checks, and no receiver needs them.
    """
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        packed = socket.inet_aton(host)
    except OSError:
        return None
    raise UnsafeUrl(
        f"URL host {host!r} is IPv4 address {socket.inet_ntoa(packed)} written in a "
        "non-standard form; write it as four decimal numbers"
    )
