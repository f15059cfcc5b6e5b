"""An asyncio SMPP client (ESME): one bind to an SMSC, kept up with reconnects and back-off.

It windows and paces submits, retries throttled ones a bounded number of times, and hands every
request lost with a dropped bind back to the caller; it never resubmits on its own nor stores.
Every fault of the link (connect refused, bind refused, connection lost, an answer that never
came or could not be read) is logged with its reason, at most once a few seconds per kind.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import ssl
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from smsgate.log_limit import LimitedLog
from smsgate.smpp.bind_health import BindHealth
from smsgate.smpp.connection import SessionProtocol
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DataSm,
    DeliverSm,
    Pdu,
    Unbind,
    make_response,
)
from smsgate.smpp.session import (
    BindStateChanged,
    ConnectionShouldClose,
    Event,
    MalformedPdu,
    PduReceived,
    RequestTimedOut,
    ResponseReceived,
    Role,
    Session,
)
from smsgate.smpp.throttle import TpsLimiter

__all__ = [
    "BindFailed",
    "BindType",
    "ClientClosed",
    "ClientCounters",
    "DeliverHandler",
    "NotAcknowledged",
    "NotSent",
    "SmppClient",
    "SmppClientError",
]

log = logging.getLogger(__name__)
S = CommandStatus
DeliverHandler = Callable[[DeliverSm | DataSm], Awaitable[int] | int]
UnacknowledgedHandler = Callable[[list[Pdu]], object]
_RETRYABLE = frozenset({S.ESME_RTHROTTLED, S.ESME_RMSGQFUL})


class BindType(Enum):
    TRANSMITTER = "transmitter"
    RECEIVER = "receiver"
    TRANSCEIVER = "transceiver"


_BIND_PDU: dict[BindType, type[BindTransmitter | BindReceiver | BindTransceiver]] = {
    BindType.TRANSMITTER: BindTransmitter,
    BindType.RECEIVER: BindReceiver,
    BindType.TRANSCEIVER: BindTransceiver,
}


class SmppClientError(Exception):
    pass


class NotAcknowledged(SmppClientError):
    """The request went out but no response came: the bind dropped or the response timed out.
    The SMSC may or may not have it; the caller decides whether to resubmit."""

    def __init__(self, request: Pdu, reason: str) -> None:
        super().__init__(f"{type(request).__name__} #{request.sequence_number}: {reason}")
        self.request = request
        self.reason = reason


class NotSent(SmppClientError):
    """The bind went down before the request was written (queue_while_unbound=False): the SMSC
    never saw it, so it may go to another SMSC at once."""

    def __init__(self, request: Pdu, reason: str) -> None:
        super().__init__(f"{type(request).__name__}: not sent, {reason}")
        self.request = request
        self.reason = reason


class ClientClosed(SmppClientError):
    """close() was called, or the bind is gone and reconnect is off."""


class BindFailed(SmppClientError):
    """The SMSC refused the bind (command_status says why)."""

    def __init__(self, command_status: int) -> None:
        super().__init__(f"bind refused with command_status {status_name(command_status)}")
        self.command_status = command_status


def status_name(command_status: int) -> str:
    """`0x0000000D (ESME_RBINDFAIL)`: the number an SMSC's log shows, and what it means."""
    try:
        return f"0x{command_status:08X} ({CommandStatus(command_status).name})"
    except ValueError:
        return f"0x{command_status:08X}"


def describe_link_error(exc: BaseException) -> str:
    """Why a connect or bind failed, in words for a log line."""
    if isinstance(exc, ConnectionRefusedError):
        return "connect refused"
    if isinstance(exc, TimeoutError):
        return "no answer to connect or bind in time"
    if isinstance(exc, (BindFailed, ConnectionError)):
        return str(exc)
    return f"cannot connect: {exc}"


@dataclass(slots=True)
class ClientCounters:
    submitted: int = 0  # requests written (a retry counts again)
    acked: int = 0  # responses with command_status 0
    rejected: int = 0  # responses with another status, throttling included
    throttled: int = 0  # ESME_RTHROTTLED / ESME_RMSGQFUL answers
    not_acknowledged: int = 0
    delivered: int = 0  # deliver_sm / data_sm received
    reconnects: int = 0
    binds: int = 0


class SmppClient:
    """One ESME bind. `await start()` connects in the background; `submit()` waits for the bind,
    a window slot and the TPS budget, and returns the response PDU."""

    def __init__(
        self,
        host: str,
        port: int,
        system_id: str,
        password: str,
        bind_type: BindType | str = BindType.TRANSCEIVER,
        *,
        system_type: str = "",
        window: int = 10,
        tps: float | None = None,
        tls: ssl.SSLContext | None = None,
        enquire_link_interval: float | None = 30.0,
        response_timeout: float = 10.0,
        reconnect: bool = True,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        backoff_jitter: float = 0.25,
        throttle_retries: int = 3,
        throttle_backoff: float = 0.2,
        on_deliver: DeliverHandler | None = None,
        on_unacknowledged: UnacknowledgedHandler | None = None,
        queue_while_unbound: bool = True,
        name: str = "",
    ) -> None:
        """`queue_while_unbound`: requests made or queued while the bind is down wait for the
        next bind; False fails them at once with NotSent (a gateway with other SMSCs to try
        sends them there). `name` labels this client's log lines."""
        self.host = host
        self.port = port
        self.system_id = system_id
        self.password = password
        self.bind_type = BindType(bind_type)
        self.system_type = system_type
        self.window = window
        self.tls = tls
        self.enquire_link_interval = enquire_link_interval
        self.response_timeout = response_timeout
        self.reconnect = reconnect
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.backoff_jitter = backoff_jitter
        self.throttle_retries = throttle_retries
        self.throttle_backoff = throttle_backoff
        self.on_deliver = on_deliver
        self.on_unacknowledged = on_unacknowledged
        self.queue_while_unbound = queue_while_unbound
        self.name = name or f"{system_id}@{host}:{port}"
        # Up/down, since when and the last reason, kept for /health as the log says them.
        self.health = BindHealth(self.name, f"{host}:{port}")
        self._quiet = LimitedLog(log)
        self.counters = ClientCounters()
        self.last_error: BaseException | None = None
        self._limiter = TpsLimiter(tps) if tps else None
        self._conn: SessionProtocol | None = None
        self._bound = asyncio.Event()
        self._lost: asyncio.Future[None] | None = None
        self._bind_result: asyncio.Future[Pdu] | None = None
        self._responses: dict[int, tuple[Pdu, asyncio.Future[Pdu]]] = {}
        # Requests not yet written, waiting for a window slot while bound: each answer sends
        # the next at once, so a queued request costs one future and one wakeup, not two.
        self._queue: deque[tuple[Pdu, asyncio.Future[Pdu]]] = deque()
        # Callers waiting for the bind or for the TPS budget.
        self._slot_waiters: deque[asyncio.Future[None]] = deque()
        self._runner: asyncio.Task[None] | None = None
        self._closing = False
        self._link_up = False
        self._closed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        return self._bound.is_set()

    @property
    def in_window(self) -> int:
        """Requests written and not answered yet: the part of the window in use."""
        return len(self._responses)

    async def start(self) -> None:
        """Connect and bind in the background; again after close() (a gateway connector is
        unbound while its lease is in doubt and bound again once the lease is its own)."""
        if self._runner is None or self._runner.done():
            self._closing = False
            self._closed.clear()
            self._runner = asyncio.get_running_loop().create_task(self._run())

    async def wait_bound(self, timeout: float | None = None) -> None:
        """Return once bound; raise TimeoutError after `timeout`, ClientClosed if it never will."""
        async with asyncio.timeout(timeout):
            await self._wait_bound_or_closed()

    async def close(self, timeout: float | None = None) -> None:
        """Unbind gracefully (waiting up to `timeout`, default response_timeout), then stop."""
        self._closing = True
        conn = self._conn
        if conn is not None and self.bound:
            try:
                conn.send(Unbind())
            except Exception:
                conn.close()
            try:
                async with asyncio.timeout(timeout or self.response_timeout):
                    await conn.closed.wait()
            except TimeoutError:
                conn.abort()
        elif conn is not None:
            conn.abort()
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        self._fail_slot_waiters()
        self._closed.set()

    async def __aenter__(self) -> SmppClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- submitting ---------------------------------------------------------------------------

    async def submit(self, pdu: Pdu) -> Pdu:
        """Send one request (submit_sm, data_sm, query_sm ...) and return its response. A
        throttled answer is retried up to throttle_retries times with growing pauses, and then
        returned as is. Raises NotAcknowledged when the response never comes."""
        future = self._send_or_queue(pdu)
        response = await (future if future is not None else self._request_when_bound(pdu))
        if response.command_status not in _RETRYABLE:
            return response  # the common case: no second coroutine
        return await self._unless_throttled(pdu, response)

    def submit_soon(self, pdu: Pdu, done: Callable[[Pdu | BaseException], None]) -> None:
        """submit() for a caller that wants a callback, not a coroutine: `done` gets what
        submit() would return or raise. Bound and unpaced, with no throttling, this runs no
        task and no coroutine at all (a dispatcher sends thousands a second)."""
        future = self._send_or_queue(pdu)
        if future is None:
            self._spawn(self.submit(pdu), done)
        else:
            future.add_done_callback(lambda answered: self._first_answer(pdu, answered, done))

    def _first_answer(
        self,
        pdu: Pdu,
        answered: asyncio.Future[Pdu],
        done: Callable[[Pdu | BaseException], None],
    ) -> None:
        if answered.cancelled():
            done(asyncio.CancelledError())
            return
        error = answered.exception()
        if error is not None:
            done(error)
            return
        response = answered.result()
        if response.command_status in _RETRYABLE:
            self._spawn(self._unless_throttled(pdu, response), done)
        else:
            done(response)

    def _spawn(self, work: Awaitable[Pdu], done: Callable[[Pdu | BaseException], None]) -> None:
        async def run() -> None:
            try:
                result: Pdu | BaseException = await work
            except Exception as exc:
                result = exc
            done(result)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _unless_throttled(self, pdu: Pdu, response: Pdu) -> Pdu:
        attempt = 0
        while response.command_status in _RETRYABLE:
            self.counters.throttled += 1
            if attempt >= self.throttle_retries:
                break
            await asyncio.sleep(self.throttle_backoff * (2**attempt) * (0.5 + random.random()))
            attempt += 1
            response = await self.request(pdu)
        return response

    async def request(self, pdu: Pdu) -> Pdu:
        """One round trip, no retries: the building block of submit()."""
        future = self._send_or_queue(pdu)
        if future is None:
            return await self._request_when_bound(pdu)
        return await future

    def _send_or_queue(self, pdu: Pdu) -> asyncio.Future[Pdu] | None:
        """Bound and not paced: write `pdu` now if the window has room, else queue it behind
        the others; the future resolves with its response. None: take _request_when_bound()."""
        conn = self._conn
        if conn is None or self._limiter is not None or not self._bound.is_set():
            return None
        future: asyncio.Future[Pdu] = conn.loop.create_future()
        if self._queue or self._slot_waiters or not conn.session.can_send:
            self._queue.append((pdu, future))
        else:
            self._write(conn, pdu, future)
        return future

    async def _request_when_bound(self, pdu: Pdu) -> Pdu:
        """The slow path: wait for the bind (and, when paced, the TPS budget) first."""
        if not self.queue_while_unbound and not self._bound.is_set():
            raise NotSent(pdu, "not bound")
        if self._limiter is None:
            # Only the bind is missing: wait for it, then queue like every other request, so
            # those that waited for the bind are not overtaken for as long as traffic lasts.
            while True:
                await self._wait_bound_or_closed()
                queued = self._send_or_queue(pdu)
                if queued is not None:
                    return await queued
        # Paced: wait for the bind, the TPS budget and a window slot.
        conn = await self._slot(pdu)
        future: asyncio.Future[Pdu] = conn.loop.create_future()
        self._write(conn, pdu, future)
        return await future

    def _write(self, conn: SessionProtocol, pdu: Pdu, future: asyncio.Future[Pdu]) -> None:
        conn.send(pdu)
        self._responses[pdu.sequence_number] = (pdu, future)
        self.counters.submitted += 1

    async def _slot(self, pdu: Pdu) -> SessionProtocol:
        loop = asyncio.get_running_loop()
        while True:
            if not self._bound.is_set():
                if not self.queue_while_unbound:
                    raise NotSent(pdu, "the bind went down")
                await self._wait_bound_or_closed()
            if self._limiter is not None:
                delay = self._limiter.delay(loop.time())
                while delay:
                    await asyncio.sleep(delay)
                    delay = self._limiter.delay(loop.time())
            conn = self._conn
            if conn is not None and self._bound.is_set():
                if not self._slot_waiters and conn.session.can_send:
                    return conn
                waiter: asyncio.Future[None] = loop.create_future()
                self._slot_waiters.append(waiter)
                await waiter
                conn = self._conn
                if conn is not None and self._bound.is_set() and conn.session.can_send:
                    return conn

    async def _wait_bound_or_closed(self) -> None:
        if self._closing or self._closed.is_set():
            raise ClientClosed("the client is closed")
        if self._runner is None:
            raise ClientClosed("start() was not called")
        bound = asyncio.ensure_future(self._bound.wait())
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait({bound, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            bound.cancel()
            closed.cancel()
        if not self._bound.is_set():
            raise ClientClosed("the client is closed")

    def _release_slot(self) -> None:
        """A window slot is free: the queue goes first, then a caller waiting in _slot()."""
        queue = self._queue
        if queue:
            conn = self._conn
            while queue and conn is not None and self._bound.is_set() and conn.session.can_send:
                pdu, future = queue.popleft()
                if future.done():
                    continue  # its caller gave up (cancelled) before it went out
                try:
                    self._write(conn, pdu, future)
                except Exception as exc:  # not sendable in this state: that caller fails alone
                    future.set_exception(exc)
            if queue:
                return
        waiters = self._slot_waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _fail_slot_waiters(self) -> None:
        if self._closing or self._closed.is_set():
            # Queued requests never went out; without a bind to come they fail here. Otherwise
            # they stay queued and go out once bound again, unless told not to wait for it.
            while self._queue:
                _, future = self._queue.popleft()
                if not future.done():
                    future.set_exception(ClientClosed("the client is closed"))
        elif not self.queue_while_unbound:
            while self._queue:
                pdu, future = self._queue.popleft()
                if not future.done():
                    future.set_exception(NotSent(pdu, "the bind went down"))
        while self._slot_waiters:
            waiter = self._slot_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # they re-check and see the client closed

    # --- the connection loop ------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = self.backoff_initial
        first = True
        try:
            while not self._closing:
                if not first:
                    self.counters.reconnects += 1
                first = False
                failure = ""
                event = "connector_connect_failed"
                try:
                    bound = await self._connect_and_bind(loop)
                except (OSError, TimeoutError, BindFailed) as exc:
                    self.last_error = exc
                    bound = False
                    failure = describe_link_error(exc)
                    if isinstance(exc, BindFailed):
                        event = "connector_bind_refused"
                if bound:
                    backoff = self.backoff_initial
                    log.info(
                        "smpp %s: bound as %s",
                        self.name,
                        self.bind_type.value,
                        extra=self.health.bound(),
                    )
                    assert self._lost is not None
                    await self._lost
                elif not failure:
                    failure = "connection closed while binding"
                if self._closing or not self.reconnect:
                    return
                delay = backoff * (1 + self.backoff_jitter * (2 * random.random() - 1))
                if failure:
                    log.warning(
                        "smpp %s: %s; retrying in %.1f s",
                        self.name,
                        failure,
                        delay,
                        extra=self.health.failed(event, failure),
                    )
                else:
                    log.info("smpp %s: reconnecting in %.1f s", self.name, delay)
                await asyncio.sleep(delay)
                backoff = min(self.backoff_max, backoff * 2)
        finally:
            self._bound.clear()
            self._closed.set()
            self._fail_slot_waiters()

    async def _connect_and_bind(self, loop: asyncio.AbstractEventLoop) -> bool:
        session = Session(
            Role.ESME,
            window=self.window,
            response_timeout=self.response_timeout,
            enquire_link_interval=self.enquire_link_interval,
            now=loop.time(),
        )
        self._lost = loop.create_future()
        self._bind_result = loop.create_future()
        conn = SessionProtocol(session, self._on_event, self._on_lost, loop)
        async with asyncio.timeout(self.response_timeout):
            await loop.create_connection(lambda: conn, self.host, self.port, ssl=self.tls)
        self._conn = conn
        bind = _BIND_PDU[self.bind_type](
            system_id=self.system_id, password=self.password, system_type=self.system_type
        )
        conn.send(bind)
        try:
            # The session's response timer ends a silent bind; this is only a backstop.
            async with asyncio.timeout(self.response_timeout * 2):
                response = await self._bind_result
        except ConnectionError:
            return False
        except TimeoutError:
            conn.abort()
            raise
        if response.command_status != 0:
            conn.close()
            await self._lost
            raise BindFailed(response.command_status)
        self.counters.binds += 1
        self._link_up = True  # for _on_lost: a drop after a bind is worth a warning
        return True

    def _on_lost(self, exc: BaseException | None) -> None:
        unacked: list[Pdu] = []
        responses, self._responses = self._responses, {}
        for request, future in responses.values():
            if not future.done():
                unacked.append(request)
                future.set_exception(NotAcknowledged(request, "connection lost"))
                self.counters.not_acknowledged += 1
        was_bound, self._link_up = self._link_up, False
        self._bound.clear()
        if was_bound and not self._closing:
            log.warning(
                "smpp %s: connection dropped (%s) with %d requests unanswered",
                self.name,
                exc or "closed by the SMSC",
                len(unacked),
                extra=self.health.failed(
                    "connector_dropped", f"connection dropped ({exc or 'closed by the SMSC'})"
                ),
            )
        if self._bind_result is not None and not self._bind_result.done():
            self._bind_result.set_exception(ConnectionError("connection closed while binding"))
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        self._fail_slot_waiters()
        if unacked and self.on_unacknowledged is not None:
            self._call(self.on_unacknowledged, unacked)

    def _on_event(self, event: Event) -> None:
        kind = type(event)
        if kind is ResponseReceived:
            assert isinstance(event, ResponseReceived)
            response = event.response
            entry = self._responses.pop(event.request.sequence_number, None)
            if entry is not None:
                future = entry[1]
                if response.command_status == 0:
                    self.counters.acked += 1
                else:
                    self.counters.rejected += 1
                if not future.done():
                    future.set_result(response)
                self._release_slot()
            elif self._bind_result is not None and not self._bind_result.done():
                self._bind_result.set_result(response)
        elif kind is PduReceived:
            assert isinstance(event, PduReceived)
            self._on_request(event.pdu)
        elif kind is RequestTimedOut:
            assert isinstance(event, RequestTimedOut)
            entry = self._responses.pop(event.request.sequence_number, None)
            if entry is not None and not entry[1].done():
                self.counters.not_acknowledged += 1
                self._quiet.warning(
                    "timeout",
                    "smpp %s: no answer to %s in %.1f s",
                    self.name,
                    type(event.request).__name__,
                    self.response_timeout,
                )
                entry[1].set_exception(NotAcknowledged(event.request, "response timeout"))
                self._release_slot()
        elif kind is BindStateChanged:
            assert isinstance(event, BindStateChanged)
            if self._conn is not None and self._conn.session.bound:
                self._bound.set()
                for _ in range(self.window):
                    self._release_slot()
            else:
                self._bound.clear()
        elif kind is ConnectionShouldClose:
            self._bound.clear()
        elif kind is MalformedPdu:
            assert isinstance(event, MalformedPdu)
            self._quiet.warning(
                "malformed", "smpp %s: undecodable PDU from the SMSC: %s", self.name, event.error
            )

    def _on_request(self, pdu: Pdu) -> None:
        conn = self._conn
        if conn is None or not isinstance(pdu, (DeliverSm, DataSm)):
            return
        self.counters.delivered += 1
        handler = self.on_deliver
        if handler is None:
            conn.send(make_response(pdu))
            return
        try:
            result = handler(pdu)
        except Exception:
            conn.send(make_response(pdu, S.ESME_RX_T_APPN))
            return
        # A future is answered from its callback, with no task per receipt.
        if isinstance(result, int):
            conn.send(make_response(pdu, int(result)))
        elif isinstance(result, asyncio.Future):
            result.add_done_callback(lambda stored: self._answer(conn, pdu, stored))
        else:
            task = conn.loop.create_task(self._answer_later(conn, pdu, result))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer_later(self, conn: SessionProtocol, pdu: Pdu, result: Awaitable[int]) -> None:
        try:
            status = int(await result)
        except Exception:
            status = S.ESME_RX_T_APPN
        self._respond(conn, pdu, status)

    def _answer(self, conn: SessionProtocol, pdu: Pdu, stored: asyncio.Future[int]) -> None:
        failed = stored.cancelled() or stored.exception() is not None
        self._respond(conn, pdu, S.ESME_RX_T_APPN if failed else int(stored.result()))

    @staticmethod
    def _respond(conn: SessionProtocol, pdu: Pdu, status: int) -> None:
        if conn.transport is not None and conn.session.bound:
            conn.send(make_response(pdu, status))

    def _call(self, callback: UnacknowledgedHandler, requests: Sequence[Pdu]) -> None:
        result = callback(list(requests))
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
