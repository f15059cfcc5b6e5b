"""The connect-time SSRF check: every resolved address checked, the connection made to a
checked one, against a real local receiver."""

from __future__ import annotations

import httpx
import pytest

from smsgate.webhooks.safe_transport import AddressRefused, Resolver, safe_transport

from .receiver import running_receiver

LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=10)


def fixed(answers: dict[str, list[str]], calls: list[str] | None = None) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise OSError(f"no such host {host}")
        return answers[host]

    return resolve


def client(allow_private: bool, resolver: Resolver | None = None) -> httpx.AsyncClient:
    kwargs = {} if resolver is None else {"resolver": resolver}
    transport = safe_transport(allow_private=allow_private, limits=LIMITS, **kwargs)
    return httpx.AsyncClient(transport=transport)


async def test_connects_to_the_address_it_checked() -> None:
    # "hooks.test" exists only in our resolver: reaching the receiver proves the connection
    # went to the checked address, not to a second lookup.
    calls: list[str] = []
    async with (
        running_receiver() as rx,
        client(True, fixed({"hooks.test": ["127.0.0.1"]}, calls)) as c,
    ):
        for _ in range(3):
            response = await c.post(f"http://hooks.test:{rx.port}/ok", content=b"x")
            assert response.status_code == 204
    assert rx.received[0].headers["host"] == f"hooks.test:{rx.port}"
    assert calls == ["hooks.test"] and rx.connections == 1  # one lookup, one kept-alive socket


async def test_a_name_that_resolves_to_loopback_is_refused() -> None:
    async with running_receiver() as rx, client(False, fixed({"hooks.test": ["127.0.0.1"]})) as c:
        refused = r"hooks\.test resolves to 127\.0\.0\.1, a loopback address"
        with pytest.raises(AddressRefused, match=refused):
            await c.post(f"http://hooks.test:{rx.port}/ok")
    assert rx.received == []


async def test_one_private_address_among_public_ones_refuses_the_host() -> None:
    resolver = fixed({"rebind.test": ["93.184.216.34", "10.0.0.7"]})
    async with client(False, resolver) as c:
        with pytest.raises(AddressRefused, match=r"10\.0\.0\.7, a private address"):
            await c.get("http://rebind.test/")


async def test_ipv4_mapped_ipv6_answer_is_refused() -> None:
    async with client(False, fixed({"mapped.test": ["::ffff:127.0.0.1"]})) as c:
        with pytest.raises(AddressRefused, match="loopback"):
            await c.get("http://mapped.test/")


async def test_a_literal_loopback_url_is_refused_at_connect_time_too() -> None:
    async with running_receiver() as rx, client(False) as c:
        with pytest.raises(AddressRefused, match="loopback"):
            await c.post(f"{rx.base}/ok")
    assert rx.received == []


async def test_the_system_resolver_is_checked_as_well() -> None:
    async with running_receiver() as rx, client(False) as c:
        with pytest.raises(AddressRefused, match="loopback"):
            await c.get(f"http://localhost:{rx.port}/ok")


async def test_the_demo_setting_reaches_a_local_receiver_through_the_system_resolver() -> None:
    async with running_receiver() as rx, client(True) as c:
        assert (await c.get(f"http://localhost:{rx.port}/ok")).status_code == 204


async def test_the_next_checked_address_is_tried_when_one_refuses_the_connection() -> None:
    # The receiver listens on 127.0.0.1 only: 127.0.0.2 refuses the connection.
    resolver = fixed({"two.test": ["127.0.0.2", "127.0.0.1"]})
    async with running_receiver() as rx, client(True, resolver) as c:
        assert (await c.get(f"http://two.test:{rx.port}/ok")).status_code == 204


async def test_a_name_that_does_not_resolve_is_a_connect_error() -> None:
    async with client(False, fixed({})) as c:
        with pytest.raises(httpx.ConnectError, match=r"cannot resolve nowhere\.test"):
            await c.get("http://nowhere.test/")


async def test_environment_proxies_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.9.9.9:3128")
    async with running_receiver() as rx, client(True) as c:
        assert (await c.get(f"{rx.base}/ok")).status_code == 204
