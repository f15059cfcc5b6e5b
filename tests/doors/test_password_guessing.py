"""Password guessing at every door that takes a password: the SMPP bind over real sockets, the
plain-text HTTP and the XML gateways through the ASGI app. The throttle runs on a frozen clock
so a lock lasts as long as the test looks at it."""

from __future__ import annotations

import asyncio
import re
import struct
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import httpx
import pytest

from smsgate.config import SmppDoorSettings
from smsgate.doors.smpp.door import SmppDoor
from smsgate.gateway.login_throttle import LoginThrottle
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.pdu import BindTransceiver, Pdu, decode, encode

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

S = CommandStatus
T = 10.0


class FrozenClock:
    def __call__(self) -> float:
        return 5000.0


@pytest.fixture
def throttle(stack: Stack) -> LoginThrottle:
    t = LoginThrottle(FrozenClock())
    stack.gateway.accounts.throttle = t
    return t


@pytest.fixture
async def door(stack: Stack) -> AsyncIterator[SmppDoor]:
    d = SmppDoor(stack.gateway, SmppDoorSettings(host="127.0.0.1", port=0))
    await asyncio.wait_for(d.start(), T)
    try:
        yield d
    finally:
        await asyncio.wait_for(d.stop(), T)


async def bind(port: int, login: str, password: str, source: str = "127.0.0.1") -> Pdu:
    """One bind_transceiver from `source` (any 127/8 address is this host), its answer."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0)), T
    )
    try:
        writer.write(encode(BindTransceiver(sequence_number=1, system_id=login, password=password)))
        header = await asyncio.wait_for(reader.readexactly(4), T)
        (length,) = struct.unpack("!I", header)
        return decode(header + await asyncio.wait_for(reader.readexactly(length - 4), T))
    finally:
        writer.close()


async def test_200_wrong_smpp_passwords_are_throttled_and_another_address_still_binds(
    stack: Stack, door: SmppDoor, throttle: LoginThrottle, caplog: pytest.LogCaptureFixture
) -> None:
    acct = await stack.account("alice")
    statuses = [(await bind(door.port, acct.login, f"x{n:06d}")).command_status for n in range(200)]
    assert statuses == [S.ESME_RINVPASWD] * 200  # answered as any wrong password is
    assert throttle.refused >= 190  # ...but almost none of them were checked
    assert any("password guessing" in r.getMessage() for r in caplog.records)
    # The guessing address is locked out even with the right password; another is not.
    refused = await bind(door.port, acct.login, acct.smpp_password)
    assert refused.command_status == S.ESME_RINVPASWD
    answer = await bind(door.port, acct.login, acct.smpp_password, source="127.0.0.2")
    assert answer.command_status == S.ESME_ROK


def client_from(stack: Stack, host: str, app: object = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app or stack.app, client=(host, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://smsgate.test")


async def balance_over_http(client: httpx.AsyncClient, login: str, password: str) -> str:
    query = urlencode({"username": login, "password": password})
    r = await asyncio.wait_for(client.get(f"/http/getbalance.php?{query}"), T)
    return r.text


async def test_http_password_guessing_is_throttled_by_address(
    stack: Stack, throttle: LoginThrottle
) -> None:
    acct: TestAccount = await stack.account("380990000001")
    async with (
        client_from(stack, "198.51.100.7") as guesser,
        client_from(stack, "203.0.113.5") as customer,
    ):
        for n in range(30):
            assert await balance_over_http(guesser, acct.login, f"guess{n}") == (
                "Invalid username or password"
            )
        assert throttle.refused >= 25
        assert await balance_over_http(guesser, acct.login, acct.password) == (
            "Invalid username or password"
        )
        assert re.search(r"\d", await balance_over_http(customer, acct.login, acct.password))


async def test_xml_password_guessing_is_throttled_by_address(
    stack: Stack, throttle: LoginThrottle
) -> None:
    acct: TestAccount = await stack.account("380990000001")

    def state(password: str) -> bytes:
        return (
            "<?xml version='1.0' encoding='utf-8'?><request_getstate>"
            f"<username>{acct.login}</username><password>{password}</password>"
            "<smscid>1</smscid></request_getstate>"
        ).encode()

    async with (
        client_from(stack, "198.51.100.8") as guesser,
        client_from(stack, "203.0.113.6") as customer,
    ):
        for n in range(30):
            r = await asyncio.wait_for(guesser.post("/xml/state.php", content=state(f"g{n}")), T)
            assert "Invalid username or password" in r.text
        assert throttle.refused >= 25
        r = await asyncio.wait_for(guesser.post("/xml/state.php", content=state(acct.password)), T)
        assert "Invalid username or password" in r.text
        r = await asyncio.wait_for(customer.post("/xml/state.php", content=state(acct.password)), T)
        assert "Invalid username" not in r.text


async def test_guesses_spread_over_two_gateways_on_one_store_are_counted_together(
    stack: Stack, throttle: LoginThrottle, caplog: pytest.LogCaptureFixture
) -> None:
    """`serve --workers 2` or two nodes: each gateway counts in the store, so a guesser that
    alternates between them is locked after the allowance of the two together, although each
    saw fewer failures than its own allowance."""
    from smsgate.domain.ids import IdGenerator
    from smsgate.doors.app import build_app
    from smsgate.gateway.accounts import AccountCache
    from smsgate.gateway.facade import Gateway
    from smsgate.gateway.outbox.outbox import Outbox
    from smsgate.gateway.submit import Submitter

    accounts = AccountCache(stack.store, ttl=0.0)
    other_throttle = accounts.throttle = LoginThrottle(FrozenClock())
    gateway = Gateway(
        Submitter(stack.store, accounts, IdGenerator(2)), accounts, stack.store, Outbox(stack.store)
    )

    async def health() -> dict[str, object]:
        return {"ok": True, "connectors": {}}

    other_app = build_app(gateway, health, max_body=200_000)
    acct = await stack.account("380990000002")
    guesser = "198.51.100.9"
    async with (
        client_from(stack, guesser) as first,
        client_from(stack, guesser, app=other_app) as second,
        client_from(stack, "203.0.113.7") as customer_on_first,
        client_from(stack, "203.0.113.7", app=other_app) as customer_on_second,
    ):
        for n in range(10):
            door = first if n % 2 == 0 else second
            answer = await balance_over_http(door, acct.login, f"guess{n}")
            assert answer == "Invalid username or password"
        # Five were checked (the allowance of a login from one address: three on one
        # gateway, two on the other, under each one's own allowance); the other five were
        # turned away unchecked, on both gateways.
        assert (throttle.refused, other_throttle.refused) == (2, 3)
        for door in (first, second):
            assert await balance_over_http(door, acct.login, acct.password) == (
                "Invalid username or password"
            )
        for door in (customer_on_first, customer_on_second):
            assert re.search(r"\d", await balance_over_http(door, acct.login, acct.password))
    assert any("password guessing" in r.getMessage() for r in caplog.records)
