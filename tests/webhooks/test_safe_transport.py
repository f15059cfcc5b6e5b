"""The connect-time SSRF check: every resolved address checked, the connection made to a
checked one, against a real local receiver."""

from __future__ import annotations

import asyncio

import pytest

from smsgate.webhooks.safe_transport import (
    AddressRefused,
    ConnectFailed,
    Resolver,
    check_endpoint_url,
    connect_checked,
    system_resolver,
)
from smsgate.webhooks.url_safety import UnsafeUrl

from .receiver import running_receiver


def fixed(answers: dict[str, list[str]], calls: list[str] | None = None) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise OSError(f"no such host {host}")
        return answers[host]

    return resolve


class _Collect(asyncio.Protocol):
    """Gathers what the receiver answers until it has a whole 204 head."""

    def __init__(self) -> None:
        self.data = b""
        self.answered = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.data += data
        if b"\r\n\r\n" in self.data and not self.answered.done():
            self.answered.set_result(self.data)


async def get_ok(
    host: str, port: int, *, allow_private: bool, resolver: Resolver = system_resolver
) -> bytes:
    """The head the receiver answers to `GET /ok` over a checked connection to `host`."""
    transport, protocol = await connect_checked(
        _Collect, host, port, allow_private=allow_private, resolver=resolver
    )
    try:
        transport.write(f"GET /ok HTTP/1.1\r\nhost: {host}:{port}\r\n\r\n".encode())
        return await asyncio.wait_for(protocol.answered, 5)
    finally:
        transport.close()


async def test_connects_to_the_address_it_checked() -> None:
    # "hooks.test" exists only in our resolver: reaching the receiver proves the connection
    # went to the checked address, not to a second lookup.
    calls: list[str] = []
    resolver = fixed({"hooks.test": ["127.0.0.1"]}, calls)
    async with running_receiver() as rx:
        head = await get_ok("hooks.test", rx.port, allow_private=True, resolver=resolver)
    assert head.startswith(b"HTTP/1.1 204")
    assert rx.received[0].headers["host"] == f"hooks.test:{rx.port}"
    assert calls == ["hooks.test"]


async def test_a_name_that_resolves_to_loopback_is_refused() -> None:
    resolver = fixed({"hooks.test": ["127.0.0.1"]})
    async with running_receiver() as rx:
        refused = r"hooks\.test resolves to 127\.0\.0\.1, a loopback address"
        with pytest.raises(AddressRefused, match=refused):
            await get_ok("hooks.test", rx.port, allow_private=False, resolver=resolver)
    assert rx.connections == 0


async def test_one_private_address_among_public_ones_refuses_the_host() -> None:
    resolver = fixed({"rebind.test": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(AddressRefused, match=r"10\.0\.0\.7, a private address"):
        await get_ok("rebind.test", 80, allow_private=False, resolver=resolver)


async def test_ipv4_mapped_ipv6_answer_is_refused() -> None:
    resolver = fixed({"mapped.test": ["::ffff:127.0.0.1"]})
    with pytest.raises(AddressRefused, match="loopback"):
        await get_ok("mapped.test", 80, allow_private=False, resolver=resolver)


async def test_a_literal_loopback_address_is_refused_at_connect_time_too() -> None:
    async with running_receiver() as rx:
        with pytest.raises(AddressRefused, match="loopback"):
            await get_ok("127.0.0.1", rx.port, allow_private=False)
    assert rx.connections == 0


async def test_the_system_resolver_is_checked_as_well() -> None:
    async with running_receiver() as rx:
        with pytest.raises(AddressRefused, match="loopback"):
            await get_ok("localhost", rx.port, allow_private=False)


async def test_the_demo_setting_reaches_a_local_receiver_through_the_system_resolver() -> None:
    async with running_receiver() as rx:
        assert (await get_ok("localhost", rx.port, allow_private=True)).startswith(b"HTTP/1.1 204")


async def test_the_next_checked_address_is_tried_when_one_refuses_the_connection() -> None:
    # The receiver listens on 127.0.0.1 only: 127.0.0.2 refuses the connection.
    resolver = fixed({"two.test": ["127.0.0.2", "127.0.0.1"]})
    async with running_receiver() as rx:
        head = await get_ok("two.test", rx.port, allow_private=True, resolver=resolver)
    assert head.startswith(b"HTTP/1.1 204")


async def test_an_ipv6_address_is_connected_to_as_well() -> None:
    server = await asyncio.start_server(_answer_204, "::1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        resolver = fixed({"six.test": ["::1"]})
        head = await get_ok("six.test", port, allow_private=True, resolver=resolver)
    finally:
        server.close()
    assert head.startswith(b"HTTP/1.1 204")


async def _answer_204(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    await writer.drain()
    writer.close()


async def test_a_name_that_does_not_resolve_is_a_connect_error() -> None:
    with pytest.raises(ConnectFailed, match=r"cannot resolve nowhere\.test"):
        await get_ok("nowhere.test", 80, allow_private=False, resolver=fixed({}))


async def test_every_address_refusing_is_a_connect_error() -> None:
    async with running_receiver() as rx:
        closed = rx.port
    with pytest.raises(ConnectFailed, match=r"cannot connect to 127\.0\.0\.1"):
        await get_ok("127.0.0.1", closed, allow_private=True)


NAMES = fixed(
    {
        "hooks.example": ["93.184.216.34"],
        "inside.example": ["93.184.216.34", "10.0.0.7"],
        "home.example": ["127.0.0.1"],
    }
)


async def test_an_endpoint_whose_name_points_inside_is_refused_when_configured() -> None:
    with pytest.raises(AddressRefused, match=r"inside.example resolves to 10.0.0.7, a private"):
        await check_endpoint_url("https://inside.example/hook", allow_private=False, resolver=NAMES)
    with pytest.raises(AddressRefused, match=r"home.example resolves to 127.0.0.1, a loopback"):
        await check_endpoint_url("http://home.example:8080/h", allow_private=False, resolver=NAMES)


async def test_an_endpoint_whose_name_points_outside_or_not_yet_anywhere_is_taken() -> None:
    await check_endpoint_url("https://hooks.example/hook", allow_private=False, resolver=NAMES)
    # Not live yet: every connection checks its addresses again.
    await check_endpoint_url("https://soon.example/hook", allow_private=False, resolver=NAMES)


async def test_a_resolver_that_does_not_answer_in_time_leaves_the_check_to_each_connection() -> (
    None
):
    async def silent(host: str, port: int) -> list[str]:
        await asyncio.sleep(30)
        return ["10.0.0.7"]

    await check_endpoint_url(
        "https://slow.example/hook", allow_private=False, resolver=silent, wait=0.05
    )


async def test_the_demo_setting_takes_a_name_that_points_inside() -> None:
    await check_endpoint_url("https://inside.example/hook", allow_private=True, resolver=NAMES)


async def test_what_check_url_refuses_is_refused_before_any_lookup() -> None:
    calls: list[str] = []
    with pytest.raises(UnsafeUrl, match="http:// or https://"):
        await check_endpoint_url(
            "ftp://hooks.example/", allow_private=False, resolver=fixed({}, calls)
        )
    assert calls == []
