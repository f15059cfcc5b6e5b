"""The asyncio SMPP client against our server over loopback: window, pacing, throttling,
dropped binds and reconnects."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from smsgate.smpp.client import BindFailed, ClientClosed, NotAcknowledged, SmppClient
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.pdu import DataSm, DeliverSm, Pdu, SubmitSm
from smsgate.smpp.server import (
    NO_REPLY,
    HandlerResult,
    Reply,
    ServerSession,
    SmppHandler,
    SmppServer,
)

S = CommandStatus
T = 5.0


class Operator(SmppHandler):
    """A scriptable SMSC: answers after `delay`, throttles the first `throttle` submits,
    drops the line on destination "drop", never answers destination "mute"."""

    def __init__(self, delay: float = 0.0, throttle: int = 0) -> None:
        self.delay = delay
        self.throttle = throttle
        self.in_flight = 0
        self.max_in_flight = 0
        self.submits = 0
        self.binds = 0
        self.unbinds = 0
        self.sessions: list[ServerSession] = []
        self.deliver_answers: list[int] = []
        self.password = "pw"

    def on_bind(self, session: ServerSession, pdu: Pdu) -> int:
        if getattr(pdu, "password", "") != self.password:
            return S.ESME_RINVPASWD
        self.binds += 1
        self.sessions.append(session)
        return 0

    async def on_submit(self, session: ServerSession, pdu: SubmitSm) -> HandlerResult:  # type: ignore[override]
        self.submits += 1
        if pdu.destination_addr == "drop":
            session.abort()
            return NO_REPLY
        if pdu.destination_addr == "mute":
            return NO_REPLY
        if self.throttle:
            self.throttle -= 1
            return S.ESME_RTHROTTLED
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        return Reply(message_id=f"id{self.submits}")

    def on_unbind(self, session: ServerSession) -> None:
        self.unbinds += 1

    def on_deliver_resp(self, session: ServerSession, request: Pdu, response: Pdu) -> None:
        self.deliver_answers.append(response.command_status)


@asynccontextmanager
async def operator(handler: Operator) -> AsyncIterator[SmppServer]:
    server = SmppServer(handler, "127.0.0.1", 0)
    await server.start()
    try:
        yield server
    finally:
        await asyncio.wait_for(server.stop(timeout=1.0), T)


@asynccontextmanager
async def client(server: SmppServer, **options: object) -> AsyncIterator[SmppClient]:
    options.setdefault("backoff_initial", 0.05)
    c = SmppClient(
        "127.0.0.1",
        server.port,
        "esme",
        "pw",
        "transceiver",
        **options,  # type: ignore[arg-type]
    )
    await c.start()
    try:
        yield c
    finally:
        await asyncio.wait_for(c.close(timeout=1.0), T)


async def test_submit_returns_the_operators_response() -> None:
    async with operator(Operator()) as server, client(server) as c:
        await c.wait_bound(T)
        response = await asyncio.wait_for(c.submit(SubmitSm(destination_addr="380")), T)
        assert response.command_status == 0 and response.message_id == "id1"
        assert (c.counters.submitted, c.counters.acked) == (1, 1)


async def test_never_more_than_window_requests_are_in_flight() -> None:
    handler = Operator(delay=0.02)
    async with operator(handler) as server, client(server, window=4) as c:
        await c.wait_bound(T)
        submits = [c.submit(SubmitSm(destination_addr=str(i))) for i in range(40)]
        responses = await asyncio.wait_for(asyncio.gather(*submits), T)
        assert all(r.command_status == 0 for r in responses)
        assert handler.max_in_flight == 4


async def test_requests_beyond_the_window_go_out_in_order_as_answers_come() -> None:
    handler = Operator(delay=0.01)
    order: list[str] = []
    original = handler.on_submit

    async def record(session: ServerSession, pdu: SubmitSm) -> HandlerResult:
        order.append(pdu.destination_addr)
        return await original(session, pdu)

    handler.on_submit = record  # type: ignore[method-assign]
    async with operator(handler) as server, client(server, window=3) as c:
        await c.wait_bound(T)
        submits = [c.submit(SubmitSm(destination_addr=f"{i:02d}")) for i in range(12)]
        responses = await asyncio.wait_for(asyncio.gather(*submits), T)
        assert all(r.command_status == 0 for r in responses)
        assert order == [f"{i:02d}" for i in range(12)]
        assert handler.max_in_flight == 3 and c.counters.submitted == 12


async def test_requests_made_before_the_bind_are_not_overtaken_by_later_ones() -> None:
    handler = Operator(delay=0.01)
    order: list[str] = []
    original = handler.on_submit

    async def record(session: ServerSession, pdu: SubmitSm) -> HandlerResult:
        order.append(pdu.destination_addr)
        return await original(session, pdu)

    handler.on_submit = record  # type: ignore[method-assign]
    async with operator(handler) as server, client(server, window=2) as c:
        early = [
            asyncio.ensure_future(c.submit(SubmitSm(destination_addr=f"e{i}"))) for i in range(5)
        ]
        await c.wait_bound(T)
        late = [c.submit(SubmitSm(destination_addr=f"l{i}")) for i in range(30)]
        await asyncio.wait_for(asyncio.gather(*early, *late), T)
        assert set(order[:5]) == {f"e{i}" for i in range(5)}


async def test_a_queued_request_given_up_never_goes_out() -> None:
    handler = Operator(delay=0.05)
    async with operator(handler) as server, client(server, window=1) as c:
        await c.wait_bound(T)
        first = asyncio.ensure_future(c.submit(SubmitSm(destination_addr="first")))
        queued = asyncio.ensure_future(c.submit(SubmitSm(destination_addr="queued")))
        last = asyncio.ensure_future(c.submit(SubmitSm(destination_addr="last")))
        await asyncio.sleep(0.01)
        queued.cancel()
        await asyncio.wait_for(asyncio.gather(first, last), T)
        assert queued.cancelled()
        assert handler.submits == 2 and c.counters.submitted == 2


async def test_queued_requests_wait_out_a_dropped_bind_and_go_after_the_rebind() -> None:
    handler = Operator(delay=0.05)
    reported: list[Pdu] = []
    async with (
        operator(handler) as server,
        client(server, window=1, on_unacknowledged=reported.extend) as c,
    ):
        await c.wait_bound(T)
        dropper = asyncio.ensure_future(c.submit(SubmitSm(destination_addr="drop")))
        await asyncio.sleep(0.01)
        queued = asyncio.ensure_future(c.submit(SubmitSm(destination_addr="queued")))
        with pytest.raises(NotAcknowledged):
            await asyncio.wait_for(dropper, T)
        # Never written, so not the caller's to resubmit: it goes out on the next bind.
        response = await asyncio.wait_for(queued, T)
        assert response.command_status == 0
        assert [p.destination_addr for p in reported] == ["drop"]
        assert handler.binds == 2


async def test_close_fails_the_requests_still_queued() -> None:
    handler = Operator(delay=0.2)
    async with operator(handler) as server:
        c = SmppClient("127.0.0.1", server.port, "esme", "pw", window=1)
        await c.start()
        await c.wait_bound(T)
        sent = asyncio.ensure_future(c.submit(SubmitSm(destination_addr="sent")))
        queued = asyncio.ensure_future(c.submit(SubmitSm(destination_addr="queued")))
        await asyncio.sleep(0.01)
        await asyncio.wait_for(c.close(), T)
        results = await asyncio.wait_for(asyncio.gather(sent, queued, return_exceptions=True), T)
        assert isinstance(results[1], ClientClosed)
        assert handler.submits == 1


async def test_tps_limit_paces_submits() -> None:
    async with operator(Operator()) as server, client(server, tps=20) as c:
        await c.wait_bound(T)
        started = time.monotonic()
        submits = [c.submit(SubmitSm()) for _ in range(30)]
        await asyncio.wait_for(asyncio.gather(*submits), T)
        # A burst of 20 goes at once; the next 10 need half a second at 20/s.
        assert time.monotonic() - started >= 0.45


async def test_throttled_submit_is_retried_and_then_succeeds() -> None:
    async with (
        operator(Operator(throttle=2)) as server,
        client(server, throttle_backoff=0.01) as c,
    ):
        await c.wait_bound(T)
        response = await asyncio.wait_for(c.submit(SubmitSm()), T)
        assert response.command_status == 0
        assert c.counters.throttled == 2


async def test_throttling_beyond_the_retries_returns_the_error_response() -> None:
    async with (
        operator(Operator(throttle=100)) as server,
        client(server, throttle_backoff=0.01, throttle_retries=2) as c,
    ):
        await c.wait_bound(T)
        response = await asyncio.wait_for(c.submit(SubmitSm()), T)
        assert response.command_status == S.ESME_RTHROTTLED
        assert c.counters.throttled == 3


async def test_dropped_bind_reports_every_request_in_flight_and_reconnects() -> None:
    handler = Operator(delay=0.5)
    reported: list[Pdu] = []
    async with (
        operator(handler) as server,
        client(server, window=10, on_unacknowledged=reported.extend) as c,
    ):
        await c.wait_bound(T)
        slow = [
            asyncio.ensure_future(c.submit(SubmitSm(destination_addr=f"s{i}"))) for i in range(3)
        ]
        await asyncio.sleep(0.05)
        dropper = asyncio.ensure_future(c.submit(SubmitSm(destination_addr="drop")))
        results = await asyncio.wait_for(asyncio.gather(*slow, dropper, return_exceptions=True), T)
        assert all(isinstance(r, NotAcknowledged) for r in results)
        assert sorted(p.destination_addr for p in reported) == ["drop", "s0", "s1", "s2"]
        await c.wait_bound(T)
        assert c.counters.reconnects >= 1 and handler.binds == 2
        handler.delay = 0.0
        response = await asyncio.wait_for(c.submit(SubmitSm(destination_addr="again")), T)
        assert response.command_status == 0


async def test_unanswered_submit_times_out_as_not_acknowledged() -> None:
    async with operator(Operator()) as server, client(server, response_timeout=0.2) as c:
        await c.wait_bound(T)
        with pytest.raises(NotAcknowledged) as caught:
            await asyncio.wait_for(c.submit(SubmitSm(destination_addr="mute")), T)
        assert caught.value.reason == "response timeout"
        assert c.bound


async def test_deliver_handler_status_goes_back_to_the_operator() -> None:
    handler = Operator()
    seen: list[DeliverSm | DataSm] = []

    async def on_deliver(pdu: DeliverSm | DataSm) -> int:
        seen.append(pdu)
        return S.ESME_RX_T_APPN if pdu.source_addr == "bad" else 0

    async with operator(handler) as server, client(server, on_deliver=on_deliver) as c:
        await c.wait_bound(T)
        session = handler.sessions[0]
        ok = await asyncio.wait_for(session.deliver(DeliverSm(source_addr="good")), T)
        bad = await asyncio.wait_for(session.deliver(DeliverSm(source_addr="bad")), T)
        assert (ok.command_status, bad.command_status) == (0, S.ESME_RX_T_APPN)
        assert [p.source_addr for p in seen] == ["good", "bad"]
        assert c.counters.delivered == 2


async def _submitted_soon(c: SmppClient, pdu: Pdu) -> Pdu | BaseException:
    answered: asyncio.Future[Pdu | BaseException] = asyncio.get_running_loop().create_future()
    c.submit_soon(pdu, answered.set_result)
    return await asyncio.wait_for(answered, T)


async def test_submit_soon_calls_back_with_what_submit_would_return_or_raise() -> None:
    async with (
        operator(Operator(throttle=2)) as server,
        client(server, throttle_backoff=0.01, response_timeout=0.2) as c,
    ):
        early = asyncio.ensure_future(_submitted_soon(c, SubmitSm(destination_addr="early")))
        await c.wait_bound(T)  # made before the bind: waits for it, then is throttled twice
        answer = await early
        assert isinstance(answer, Pdu) and answer.command_status == 0
        assert c.counters.throttled == 2
        answer = await _submitted_soon(c, SubmitSm(destination_addr="380"))
        assert isinstance(answer, Pdu) and answer.command_status == 0
        assert isinstance(
            await _submitted_soon(c, SubmitSm(destination_addr="mute")), NotAcknowledged
        )


async def test_a_deliver_handler_future_is_answered_when_it_resolves() -> None:
    handler = Operator()
    pending: list[asyncio.Future[int]] = []

    def on_deliver(pdu: DeliverSm | DataSm) -> asyncio.Future[int]:
        pending.append(asyncio.get_running_loop().create_future())
        return pending[-1]

    async with operator(handler) as server, client(server, on_deliver=on_deliver) as c:
        await c.wait_bound(T)
        session = handler.sessions[0]
        ok = asyncio.ensure_future(session.deliver(DeliverSm(source_addr="ok")))
        failed = asyncio.ensure_future(session.deliver(DeliverSm(source_addr="failed")))
        while len(pending) < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert not ok.done() and not failed.done()  # no answer before the handler's
        pending[1].set_exception(RuntimeError("not stored"))
        pending[0].set_result(S.ESME_RSYSERR)
        answers = await asyncio.wait_for(asyncio.gather(ok, failed), T)
        assert [a.command_status for a in answers] == [S.ESME_RSYSERR, S.ESME_RX_T_APPN]


async def test_close_unbinds_gracefully() -> None:
    handler = Operator()
    async with operator(handler) as server:
        c = SmppClient("127.0.0.1", server.port, "esme", "pw", "transmitter")
        await c.start()
        await c.wait_bound(T)
        await asyncio.wait_for(c.close(), T)
        assert not c.bound
        await asyncio.sleep(0.05)
        assert handler.unbinds == 1
        with pytest.raises(ClientClosed):
            await asyncio.wait_for(c.submit(SubmitSm()), T)


async def test_a_closed_client_started_again_binds_and_submits_again() -> None:
    # A gateway connector unbound while its lease was in doubt binds again once it is ours.
    handler = Operator()
    async with operator(handler) as server:
        c = SmppClient("127.0.0.1", server.port, "esme", "pw", "transceiver")
        await c.start()
        await c.wait_bound(T)
        await asyncio.wait_for(c.close(), T)
        await c.start()
        await c.wait_bound(T)
        response = await asyncio.wait_for(c.submit(SubmitSm(destination_addr="380")), T)
        assert response.command_status == 0 and handler.binds == 2
        await asyncio.wait_for(c.close(), T)


async def test_refused_bind_is_retried_with_backoff_and_reported() -> None:
    handler = Operator()
    handler.password = "other"
    async with operator(handler) as server, client(server, backoff_initial=0.02) as c:
        with pytest.raises(TimeoutError):
            await c.wait_bound(0.3)
        assert isinstance(c.last_error, BindFailed)
        assert c.last_error.command_status == S.ESME_RINVPASWD
        assert c.counters.reconnects >= 2


async def test_no_server_means_reconnect_attempts_without_crashing() -> None:
    async with operator(Operator()) as server:
        port = server.port
    c = SmppClient("127.0.0.1", port, "esme", "pw", backoff_initial=0.02, backoff_max=0.05)
    await c.start()
    await asyncio.sleep(0.3)
    assert not c.bound and c.counters.reconnects >= 2
    assert isinstance(c.last_error, OSError)
    await asyncio.wait_for(c.close(), T)


async def test_without_reconnect_a_dropped_bind_closes_the_client() -> None:
    handler = Operator()
    async with operator(handler) as server, client(server, reconnect=False) as c:
        await c.wait_bound(T)
        with pytest.raises(NotAcknowledged):
            await asyncio.wait_for(c.submit(SubmitSm(destination_addr="drop")), T)
        with pytest.raises(ClientClosed):
            await asyncio.wait_for(c.submit(SubmitSm()), T)


@pytest.fixture
def tls_contexts(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A throwaway self-signed certificate for 127.0.0.1: (server context, client context)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


async def test_bind_and_submit_over_tls(
    tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_tls, client_tls = tls_contexts
    server = SmppServer(Operator(), "127.0.0.1", 0, tls=server_tls)
    await server.start()
    try:
        async with client(server, tls=client_tls) as c:
            await c.wait_bound(T)
            response = await asyncio.wait_for(c.submit(SubmitSm(destination_addr="1")), T)
            assert response.command_status == 0
    finally:
        await asyncio.wait_for(server.stop(timeout=1.0), T)
