"""An asyncio SMPP server (SMSC side) whose behaviour is a handler, aiosmtpd-style.

The server owns connections, sessions, timers and the outbound deliver_sm window; the handler
decides every answer (authentication, message ids, receipts). It keeps no accounts or messages.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import logging
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Final

from smsgate.log_limit import LimitedLog
from smsgate.smpp.connection import WRITE_STALL_TIMEOUT, SessionProtocol
from smsgate.smpp.constants import CommandId, CommandStatus
from smsgate.smpp.pdu import (
    CancelSm,
    DataSm,
    DeliverSm,
    Pdu,
    QuerySm,
    ReplaceSm,
    SubmitMulti,
    SubmitSm,
    Unbind,
    make_response,
)
from smsgate.smpp.session import (
    BindState,
    Event,
    PduReceived,
    RequestTimedOut,
    ResponseReceived,
    Role,
    Session,
    SessionError,
    UnbindReceived,
    UnreadableRequest,
)

__all__ = [
    "NO_REPLY",
    "Reply",
    "ServerSession",
    "SmppHandler",
    "SmppServer",
]

S = CommandStatus
C = CommandId
log = logging.getLogger(__name__)


class Reply:
    """A handler's answer to one request: the response's command_status and fields, and an
    optional `after_sent` callback that runs once the response bytes were written — the place
    to schedule a receipt, so it can never overtake the submit_sm_resp carrying its id."""

    __slots__ = ("after_sent", "command_status", "fields")

    def __init__(
        self,
        command_status: int = 0,
        *,
        after_sent: Callable[[], object] | None = None,
        **fields: Any,
    ) -> None:
        self.command_status = command_status
        self.after_sent = after_sent
        self.fields = fields

    def __repr__(self) -> str:
        return f"Reply(command_status=0x{self.command_status:02X}, fields={self.fields!r})"


class _NoReply:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_REPLY"


NO_REPLY: Final = _NoReply()
"""Return this from a handler to leave the request unanswered (fault injection)."""

HandlerResult = Reply | int | _NoReply
MaybeAsync = HandlerResult | Awaitable[HandlerResult]


class SmppHandler:
    """The behaviour of an SMPP server, one method per request. Subclass and override; any method
    may be async. Defaults accept every bind and refuse every operation with its failure
    status. An exception raised here answers that PDU with ESME_RSYSERR."""

    def on_bind(self, session: ServerSession, pdu: Pdu) -> Awaitable[int] | int:
        return S.ESME_ROK

    def on_submit(self, session: ServerSession, pdu: SubmitSm) -> MaybeAsync:
        return S.ESME_RSUBMITFAIL

    def on_data_sm(self, session: ServerSession, pdu: DataSm) -> MaybeAsync:
        return S.ESME_RSUBMITFAIL

    def on_submit_multi(self, session: ServerSession, pdu: SubmitMulti) -> MaybeAsync:
        return S.ESME_RSUBMITFAIL

    def on_query(self, session: ServerSession, pdu: QuerySm) -> MaybeAsync:
        return S.ESME_RQUERYFAIL

    def on_cancel(self, session: ServerSession, pdu: CancelSm) -> MaybeAsync:
        return S.ESME_RCANCELFAIL

    def on_replace(self, session: ServerSession, pdu: ReplaceSm) -> MaybeAsync:
        return S.ESME_RREPLACEFAIL

    def on_unreadable(self, session: ServerSession, pdu: Pdu, status: int) -> MaybeAsync:
        """A request of the bound peer with a field the codec refused (`pdu` is an empty one
        of its class with its sequence_number): answered with the codec's `status` unless
        overridden."""
        return status

    def on_unbind(self, session: ServerSession) -> object:
        return None

    def on_deliver_resp(self, session: ServerSession, request: Pdu, response: Pdu) -> object:
        """The peer answered a deliver_sm/data_sm sent with deliver() or deliver_nowait()."""
        return None

    def on_deliver_timeout(self, session: ServerSession, request: Pdu) -> object:
        return None

    def on_close(self, session: ServerSession) -> object:
        """The connection is gone; `session.undelivered()` lists what never got a response."""
        return None


_DISPATCH: Final[dict[int, str]] = {
    C.SUBMIT_SM: "on_submit",
    C.DATA_SM: "on_data_sm",
    C.SUBMIT_MULTI: "on_submit_multi",
    C.QUERY_SM: "on_query",
    C.CANCEL_SM: "on_cancel",
    C.REPLACE_SM: "on_replace",
}
_BINDS: Final = frozenset({C.BIND_TRANSMITTER, C.BIND_RECEIVER, C.BIND_TRANSCEIVER})
_DELIVER_SM: Final = int(C.DELIVER_SM)  # a plain int: enum member lookups are slow


class ServerSession:
    """One connected peer as the handler sees it: who it is, and a way to push it deliver_sm."""

    _ids = itertools.count(1)

    def __init__(self, server: SmppServer, conn: SessionProtocol) -> None:
        self.id = next(self._ids)
        self.server = server
        self.system_id = ""
        self.system_type = ""
        self.pdus_received = 0
        self._conn = conn
        # Outbound deliver_sm/data_sm waiting for a window slot, with the future of deliver().
        self._queue: deque[tuple[Pdu, asyncio.Future[Pdu] | None]] = deque()
        self._waiting: dict[int, tuple[Pdu, asyncio.Future[Pdu] | None]] = {}

    def __repr__(self) -> str:
        return f"<ServerSession #{self.id} {self.system_id!r} {self.state.value} {self.peer}>"

    @property
    def peer(self) -> Any:
        return self._conn.peer

    @property
    def peer_address(self) -> str | None:
        """The peer's IP address, for per-client policies (password throttling, logs)."""
        peer = self._conn.peer
        return str(peer[0]) if isinstance(peer, tuple) and peer else None

    @property
    def state(self) -> BindState:
        return self._conn.session.state

    @property
    def bound(self) -> bool:
        return self._conn.session.bound

    @property
    def can_receive(self) -> bool:
        """Bound as receiver or transceiver: deliver_sm may go to it."""
        return self._conn.session.allows(_DELIVER_SM)

    @property
    def outbound_pending(self) -> int:
        return len(self._queue) + len(self._waiting)

    def deliver(self, pdu: DeliverSm | DataSm) -> asyncio.Future[Pdu]:
        """Queue a deliver_sm/data_sm for the outbound window; the future gets its response,
        or ConnectionError if the peer is (or goes) away first, TimeoutError if it never
        answers. A future and not a coroutine: a receipt pump sends hundreds at a time, and a
        task per PDU cost it more than building the PDU."""
        future: asyncio.Future[Pdu] = self._conn.loop.create_future()
        try:
            self._enqueue(pdu, future)
        except ConnectionError as exc:
            future.set_exception(exc)
        return future

    def deliver_nowait(self, pdu: DeliverSm | DataSm) -> None:
        """Queue a deliver_sm/data_sm; its response goes to handler.on_deliver_resp."""
        self._enqueue(pdu, None)

    def undelivered(self) -> list[Pdu]:
        """Outbound PDUs not (yet) answered: queued or in flight."""
        return [p for p, _ in self._waiting.values()] + [p for p, _ in self._queue]

    def close(self) -> None:
        """Flush and close the connection."""
        self._conn.close()

    def abort(self) -> None:
        """Drop the connection now, unsent bytes and all."""
        self._conn.abort()

    async def unbind(self, timeout: float = 5.0) -> None:
        """Send unbind and wait for the connection to close (forcibly after `timeout`)."""
        conn = self._conn
        if conn.transport is None:
            return
        if conn.session.bound:
            try:
                conn.send(Unbind())
            except Exception:  # already unbinding: just wait or drop
                conn.close()
        else:
            conn.close()
        try:
            async with asyncio.timeout(timeout):
                await conn.closed.wait()
        except TimeoutError:
            conn.abort()

    # --- for the server -----------------------------------------------------------------------

    def _enqueue(self, pdu: Pdu, future: asyncio.Future[Pdu] | None) -> None:
        if self._conn.transport is None:
            raise ConnectionError("the peer is gone")
        self._queue.append((pdu, future))
        self._drain_queue()

    def _drain_queue(self) -> None:
        session = self._conn.session
        queue = self._queue
        while queue and session.can_send and session.allows(_DELIVER_SM):
            pdu, future = queue.popleft()
            try:
                self._conn.send(pdu)
            except Exception as exc:  # an unencodable PDU fails alone
                if future is not None and not future.done():
                    future.set_exception(exc)
                else:
                    log.warning("dropping undeliverable %r: %s", pdu, exc)
                continue
            self._waiting[pdu.sequence_number] = (pdu, future)

    def _on_response(self, request: Pdu, response: Pdu) -> bool:
        entry = self._waiting.pop(request.sequence_number, None)
        if entry is None:
            return False
        future = entry[1]
        if future is not None and not future.done():
            future.set_result(response)
        self._drain_queue()
        return True

    def _on_timeout(self, request: Pdu) -> bool:
        entry = self._waiting.pop(request.sequence_number, None)
        if entry is None:
            return False
        future = entry[1]
        if future is not None and not future.done():
            future.set_exception(TimeoutError("no response to " + type(request).__name__))
        self._drain_queue()
        return True

    def _on_lost(self) -> None:
        for _, future in itertools.chain(self._waiting.values(), self._queue):
            if future is not None and not future.done():
                future.set_exception(ConnectionError("the peer is gone"))


class SmppServer:
    """`await start()` listens (port 0 picks a free port, see `.port`); `await stop()` unbinds
    every peer and closes. Also an async context manager.

    `max_connections`: open connections this listener keeps; one more is closed as soon as it
    is accepted, with a log line. Connections that never bind are closed after
    `session_init_timeout` anyway, but a client opening thousands within it would otherwise
    take every descriptor of the process, and then every door and the store refuse everyone."""

    def __init__(
        self,
        handler: SmppHandler,
        host: str = "127.0.0.1",
        port: int = 2775,
        *,
        tls: ssl.SSLContext | None = None,
        system_id: str = "smsgate",
        window: int = 10,
        session_init_timeout: float | None = 30.0,
        inactivity_timeout: float | None = 300.0,
        enquire_link_interval: float | None = 60.0,
        response_timeout: float = 10.0,
        write_stall_timeout: float | None = WRITE_STALL_TIMEOUT,
        max_connections: int | None = None,
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.tls = tls
        self.system_id = system_id
        self.window = window
        self.session_init_timeout = session_init_timeout
        self.inactivity_timeout = inactivity_timeout
        self.enquire_link_interval = enquire_link_interval
        self.response_timeout = response_timeout
        self.write_stall_timeout = write_stall_timeout
        self.max_connections = max_connections
        self._refusals = LimitedLog(log)
        self.sessions: set[ServerSession] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._new_connection, self.host, self.port, ssl=self.tls
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop listening, unbind every peer (waiting up to `timeout`), then close."""
        if self._server is not None:
            self._server.close()
        sessions = list(self.sessions)
        if sessions:
            await asyncio.gather(*(s.unbind(timeout) for s in sessions), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> SmppServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- connections --------------------------------------------------------------------------

    def _new_connection(self) -> asyncio.Protocol:
        cap = self.max_connections
        if cap is not None and len(self.sessions) >= cap:
            self._refusals.warning(
                "cap",
                "SMPP connection refused on port %d: the cap of %d open connections is reached",
                self.port,
                cap,
                extra={"event": "smpp_connection_refused", "max_connections": cap},
            )
            return _Refused()
        loop = asyncio.get_running_loop()
        session = Session(
            Role.SMSC,
            window=self.window,
            response_timeout=self.response_timeout,
            enquire_link_interval=self.enquire_link_interval,
            inactivity_timeout=self.inactivity_timeout,
            session_init_timeout=self.session_init_timeout,
            now=loop.time(),
        )
        holder: list[ServerSession] = []
        conn = SessionProtocol(
            session,
            lambda event: self._on_event(holder[0], event),
            lambda exc: self._on_lost(holder[0]),
            loop,
            write_stall_timeout=self.write_stall_timeout,
        )
        server_session = ServerSession(self, conn)
        holder.append(server_session)
        self.sessions.add(server_session)
        return conn

    def _on_lost(self, session: ServerSession) -> None:
        self.sessions.discard(session)
        session._on_lost()
        self._call_quietly("on_close", session)

    def _on_event(self, session: ServerSession, event: Event) -> None:
        kind = type(event)
        if kind is PduReceived:
            assert isinstance(event, PduReceived)
            session.pdus_received += 1
            self._on_request(session, event.pdu)
        elif kind is ResponseReceived:
            assert isinstance(event, ResponseReceived)
            session._on_response(event.request, event.response)
            self._call_quietly("on_deliver_resp", session, event.request, event.response)
        elif kind is RequestTimedOut:
            assert isinstance(event, RequestTimedOut)
            session._on_timeout(event.request)
            self._call_quietly("on_deliver_timeout", session, event.request)
        elif kind is UnbindReceived:
            self._call_quietly("on_unbind", session)
        elif kind is UnreadableRequest:
            assert isinstance(event, UnreadableRequest)
            session.pdus_received += 1
            status = event.error.command_status
            self._run(
                session,
                event.request,
                lambda s, pdu: self.handler.on_unreadable(s, pdu, status),
                bind=False,
            )

    def _on_request(self, session: ServerSession, pdu: Pdu) -> None:
        command_id = pdu.command_id
        if command_id in _BINDS:
            self._run(session, pdu, self.handler.on_bind, bind=True)
            return
        name = _DISPATCH.get(command_id)
        if name is None:
            return  # outbind or alert_notification from a peer: nothing to answer
        self._run(session, pdu, getattr(self.handler, name), bind=False)

    def _run(self, session: ServerSession, pdu: Pdu, method: Any, *, bind: bool) -> None:
        try:
            result = method(session, pdu)
        except Exception:
            log.exception("handler failed on %s", type(pdu).__name__)
            result = S.ESME_RSYSERR
        # Plain answers first: isawaitable() is comparatively slow on the hot path.
        if type(result) is Reply or type(result) is int:
            self._answer(session, pdu, result, bind)
        elif isinstance(result, asyncio.Future):
            # A handler that answers many PDUs from one task hands back a future for each:
            # answered from its callback, with no task of our own per PDU.
            self._tasks.add(result)
            result.add_done_callback(functools.partial(self._answer_done, session, pdu, bind))
        elif inspect.isawaitable(result):
            task = asyncio.get_running_loop().create_task(
                self._answer_later(session, pdu, result, bind)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._answer(session, pdu, result, bind)

    def _answer_done(
        self, session: ServerSession, pdu: Pdu, bind: bool, future: asyncio.Future[Any]
    ) -> None:
        self._tasks.discard(future)
        if future.cancelled():  # the server is stopping
            return
        exc = future.exception()
        if exc is not None:
            log.error("handler failed on %s", type(pdu).__name__, exc_info=exc)
            self._answer(session, pdu, S.ESME_RSYSERR, bind)
            return
        self._answer(session, pdu, future.result(), bind)

    async def _answer_later(
        self, session: ServerSession, pdu: Pdu, result: Awaitable[Any], bind: bool
    ) -> None:
        try:
            value = await result
        except Exception:
            log.exception("handler failed on %s", type(pdu).__name__)
            value = S.ESME_RSYSERR
        self._answer(session, pdu, value, bind)

    def _answer(self, session: ServerSession, pdu: Pdu, result: Any, bind: bool) -> None:
        conn = session._conn
        if result is NO_REPLY or conn.transport is None:
            return
        reply = result if isinstance(result, Reply) else Reply(int(result))
        fields = reply.fields
        if bind:
            fields = {"system_id": self.system_id, **fields}
        try:
            response = make_response(pdu, reply.command_status, **fields)
        except TypeError:
            log.exception("handler answered %s with unknown fields", type(pdu).__name__)
            response = make_response(pdu, S.ESME_RSYSERR)
        try:
            conn.send(response)
        except SessionError:
            # The session closed (the peer left, or broke framing) while the handler worked:
            # nobody is left to answer, which is not an error of ours.
            log.debug("no answer to %s: the session closed", type(pdu).__name__)
            return
        except Exception:
            log.exception("cannot encode the answer to %s", type(pdu).__name__)
            try:
                conn.send(make_response(pdu, S.ESME_RSYSERR))
            except Exception:  # the session closed meanwhile
                return
        if bind and reply.command_status == 0:
            session.system_id = getattr(pdu, "system_id", "")
            session.system_type = getattr(pdu, "system_type", "")
        if reply.after_sent is not None:
            conn.after_flush(reply.after_sent)

    def _call_quietly(self, name: str, *args: Any) -> None:
        try:
            result = getattr(self.handler, name)(*args)
        except Exception:
            log.exception("handler %s failed", name)
            return
        if result is not None and inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


class _Refused(asyncio.Protocol):
    """A connection past the cap: closed as soon as it is made, nothing read from it."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()
