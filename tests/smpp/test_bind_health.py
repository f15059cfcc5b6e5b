"""Why a client bind is down, kept for /health and carried by the client's log lines as
structured fields: connect refused, bind refused with its command_status, dropped."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from smsgate.smpp.bind_health import BindHealth
from smsgate.smpp.client import SmppClient
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.pdu import Pdu
from smsgate.smpp.server import ServerSession, SmppHandler, SmppServer

S = CommandStatus
T = 5.0


class Smsc(SmppHandler):
    def __init__(self, password: str = "pw") -> None:
        self.password = password
        self.sessions: list[ServerSession] = []

    def on_bind(self, session: ServerSession, pdu: Pdu) -> int:
        if getattr(pdu, "password", "") != self.password:
            return S.ESME_RINVPASWD
        self.sessions.append(session)
        return 0


@asynccontextmanager
async def smsc(handler: Smsc) -> AsyncIterator[SmppServer]:
    server = SmppServer(handler, "127.0.0.1", 0)
    await server.start()
    try:
        yield server
    finally:
        await asyncio.wait_for(server.stop(timeout=1.0), T)


@asynccontextmanager
async def client(port: int) -> AsyncIterator[SmppClient]:
    c = SmppClient(
        "127.0.0.1", port, "esme", "pw", name="op-b", backoff_initial=0.02, backoff_max=0.05
    )
    await c.start()
    try:
        yield c
    finally:
        await asyncio.wait_for(c.close(timeout=1.0), T)


async def until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + T
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def events(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [r.__dict__ for r in caplog.records if "event" in r.__dict__]


async def test_a_refused_connection_is_kept_and_logged_with_its_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with smsc(Smsc()) as server:
        port = server.port  # closed again: nothing listens there
    caplog.set_level(logging.INFO, "smsgate")
    async with client(port) as c:
        await until(lambda: c.counters.reconnects >= 2)
        assert not c.health.up
        assert c.health.last_error == "connect refused"
        assert c.health.last_error_at is not None
    first = events(caplog)[0]
    assert first["event"] == "connector_connect_failed"
    assert first["link"] == "op-b" and first["reason"] == "connect refused"
    assert first["address"] == f"127.0.0.1:{port}"


async def test_a_refused_bind_names_its_command_status(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "smsgate")
    async with smsc(Smsc(password="other")) as server, client(server.port) as c:
        await until(lambda: c.health.last_error != "")
        assert c.health.last_error == (
            "bind refused with command_status 0x0000000E (ESME_RINVPASWD)"
        )
    first = events(caplog)[0]
    assert first["event"] == "connector_bind_refused"
    assert first["reason"] == c.health.last_error


async def test_bound_then_dropped_moves_since_and_keeps_the_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "smsgate")
    handler = Smsc()
    async with smsc(handler) as server, client(server.port) as c:
        await c.wait_bound(T)
        up_since = c.health.since
        assert c.health.up and c.health.describe()["last_error"] is None
        handler.sessions[0].abort()
        await until(lambda: len(handler.sessions) == 2 and c.bound)
        assert c.health.since >= up_since
        assert str(c.health.last_error).startswith("connection dropped")
    kinds = [e["event"] for e in events(caplog)]
    assert kinds[:3] == ["connector_bound", "connector_dropped", "connector_bound"]


def test_describe_reports_since_and_the_last_error_with_its_time() -> None:
    now = [1000.0]
    health = BindHealth("op", "h:1", clock=lambda: now[0])
    now[0] = 1005.0
    fields = health.failed("connector_connect_failed", "connect refused")
    assert fields == {
        "event": "connector_connect_failed",
        "link": "op",
        "address": "h:1",
        "reason": "connect refused",
    }
    assert health.describe() == {
        "since": 1000.0,  # down since the client was made
        "last_error": "connect refused",
        "last_error_at": 1005.0,
    }
    now[0] = 1010.0
    health.bound()
    now[0] = 1020.0
    health.noted("connector_throttled", "throttled")  # still up: since stays
    assert health.up and health.describe()["since"] == 1010.0
    assert health.describe()["last_error"] == "throttled"
