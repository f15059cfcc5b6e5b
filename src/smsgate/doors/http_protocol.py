"""uvicorn's httptools protocol with the limits a listener open to strangers needs: a cap on
open connections (503 past it), a deadline for each request's headers and body, a bound on what
a client that pipelines requests without reading the answers makes the node hold, and no write
to a connection that is already gone. It must not change what a well-behaved client sees.

Why a subclass passed to uvicorn as `http=`: uvicorn has no header timeout; its
`limit_concurrency` is checked only once a request's headers are complete, so connections that
never finish their headers are never counted yet hold a descriptor each, and it answers
text/plain; its protocol resumes reading whenever a handler asks for its body, even with
pipelined requests queued and the answers not taken, and feeds the parser whole reads (up to
256 KiB of requests queued at once); and on a lost connection it marks only the last parsed
request gone, so the one running writes to a closed transport. Every hook below overrides a
method uvicorn's protocol already has; the request cycle itself is uvicorn's, writing through
a transport that sends each answer's head and body in one write (_HeadWithBody).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from smsgate.log_limit import LimitedLog

log = logging.getLogger(__name__)

# The parser is fed at most this much at a time, so that a read full of tiny pipelined requests
# queues at most ~170 of them (~0.5 MB) before reading stops; the rest waits, unparsed.
_SLICE = 4096
_LOG_EVERY = 10.0  # seconds between two warnings of one kind
_LINGER = 1.0  # seconds a refused connection may take to read its 503
_CONTINUE = b"HTTP/1.1 100 "  # uvicorn's interim answer to `Expect: 100-continue`


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """Per listener (so per node process). The deadlines are checked by one sweep every
    min(1 s, the shortest of them / 4), so a late client goes that much after its deadline."""

    max_connections: int = 1024
    header_timeout: float = 5.0  # from a request's first byte (or the connection) to its headers
    body_timeout: float = 30.0  # from the headers to the whole body
    stall_timeout: float = 30.0  # answers not taken by the client for this long: dropped
    max_header_bytes: int = 65_536


def _reply(status: str, body: bytes = b"", extra: bytes = b"") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n".encode()
        + extra
        + b"\r\n"
        + body
    )


def _json_error(name: str, message: str, status: int) -> bytes:
    # The JSON door's top-level error: the request's door is not known before its headers.
    return f'{{"name":"{name}","message":"{message}","code":0,"status":{status}}}'.encode()


_BUSY = _reply(
    "503 Service Unavailable",
    _json_error("Service Unavailable", "Too many connections, retry later.", 503),
    b"retry-after: 1\r\n",
)
_TIMEOUT = _reply(
    "408 Request Timeout", _json_error("Request Timeout", "The request came too slowly.", 408)
)
_HEADERS_TOO_LARGE = _reply(
    "431 Request Header Fields Too Large",
    _json_error("Request Header Fields Too Large", "The request headers are too large.", 431),
)


class _Listener:
    """What the connections of one listening socket share: who is open, one periodic sweep
    that closes the late ones (one timer for all, not one per request), and the log."""

    def __init__(self, limits: HttpLimits) -> None:
        self.limits = limits
        self.open: set[GuardedHttpProtocol] = set()
        # An attack is a line per kind every few seconds, not one per connection.
        self.log = LimitedLog(log, _LOG_EVERY)
        self._sweep: asyncio.TimerHandle | None = None
        shortest = min(limits.header_timeout, limits.body_timeout, limits.stall_timeout)
        self._period = min(1.0, max(0.02, shortest / 4))

    def admit(self, protocol: GuardedHttpProtocol) -> bool:
        if len(self.open) >= self.limits.max_connections:
            return False
        self.open.add(protocol)
        if self._sweep is None:
            self._sweep = protocol.loop.call_later(self._period, self._sweep_once, protocol.loop)
        return True

    def _sweep_once(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for protocol in list(self.open):
            protocol.enforce_deadlines(now)
        self._sweep = loop.call_later(self._period, self._sweep_once, loop) if self.open else None


class _Flow(FlowControl):
    """uvicorn's flow control, except that reading resumes only when the client has taken its
    answers (the write buffer is under its high-water mark), no request waits in the pipeline
    queue, and what was read but held back unparsed has been parsed first."""

    def __init__(self, transport: asyncio.Transport, protocol: GuardedHttpProtocol) -> None:
        super().__init__(transport)
        self._protocol = protocol

    def resume_reading(self) -> None:
        protocol = self._protocol
        if not self.read_paused or self.write_paused or protocol.pipeline:
            return
        self.read_paused = False
        protocol.restart_deadline()
        if protocol.held is None:
            self._transport.resume_reading()
        else:  # the socket stays paused until what was held back is parsed
            protocol.feed_held_soon()

    def pause_writing(self) -> None:
        super().pause_writing()
        self._protocol.stalled_since = self._protocol.loop.time()
        self.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        self.resume_reading()


class GuardedHttpProtocol(HttpToolsProtocol):
    """One HTTP connection under its listener's HttpLimits; see the module docstring. Build
    the class for a listener with `protocol_class`."""

    listener: ClassVar[_Listener]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.held: bytes | None = None  # read while reading was paused, not yet parsed
        self.stalled_since = 0.0
        self._feeding_soon = False
        self._due = 0.0  # when the request being read must be whole; 0: nothing is due
        self._in_headers = True
        self._header_bytes = 0
        self._running: RequestResponseCycle | None = None

    # -- the connection ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        limits = self.listener.limits
        if not self.listener.admit(self):
            refused = _Refused(transport, self.server_state)
            transport.set_protocol(refused)
            self.listener.log.warning(
                "refused",
                "HTTP connection refused with 503: the cap of %d open connections is reached",
                limits.max_connections,
            )
            return
        super().connection_made(transport)
        self.flow = _Flow(transport, self)
        self._due = self.loop.time() + limits.header_timeout

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.open.discard(self)
        self._disconnect_cycles()
        self.pipeline.clear()
        self.held = None
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self._disconnect_cycles()  # the transport closes under whatever request is running
        super().send_400_response(msg)

    def _disconnect_cycles(self) -> None:
        """Mark every request of this connection gone (uvicorn marks only the last one parsed,
        and the one running, pipelined behind it, would write to a closed transport)."""
        queued = [cycle for cycle, _ in self.pipeline]
        for cycle in (self._running, self.cycle, *queued):
            if cycle is not None and not cycle.response_complete:
                cycle.disconnected = True
                cycle.message_event.set()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        self._running = cycle
        cycle.transport = _HeadWithBody(cycle.transport)  # type: ignore[assignment]
        super()._start_asgi_task(cycle, app)

    # -- reading -----------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self.held is not None:  # the socket is paused while data is held; keep the order
            self.held += data
            return
        if len(data) <= _SLICE:
            self._feed(data)
            return
        for start in range(0, len(data), _SLICE):
            if self.flow.read_paused or self.transport.is_closing():
                self.held = data[start:]
                self.flow.pause_reading()
                return
            self._feed(data[start : start + _SLICE])

    def _feed(self, data: bytes) -> None:
        if self._in_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        if self._in_headers and self._header_bytes > self.listener.limits.max_header_bytes:
            self._close_for("headers too large", _HEADERS_TOO_LARGE)

    def feed_held_soon(self) -> None:
        """Parse what was held back, from the loop rather than from inside the request cycle
        that asked to read (which is in the middle of starting the next queued request)."""
        if not self._feeding_soon:
            self._feeding_soon = True
            self.loop.call_soon(self._feed_held)

    def _feed_held(self) -> None:
        self._feeding_soon = False
        data, self.held = self.held, None
        if data is None or self.parser is None or self.transport.is_closing():
            return
        self.data_received(data)
        if self.held is None and not self.flow.read_paused:
            self.transport.resume_reading()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._due = self.loop.time() + self.listener.limits.header_timeout

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._due = self.loop.time() + self.listener.limits.body_timeout
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._due = 0.0
        self._in_headers = True
        self._header_bytes = 0

    # -- deadlines ---------------------------------------------------------------------------
    def restart_deadline(self) -> None:
        """Reading resumes after a pause of ours: the client gets its full time again."""
        if self._due:
            limits = self.listener.limits
            timeout = limits.header_timeout if self._in_headers else limits.body_timeout
            self._due = self.loop.time() + timeout

    def enforce_deadlines(self, now: float) -> None:
        if self.transport.is_closing():
            return
        if self.flow.write_paused:
            if now - self.stalled_since > self.listener.limits.stall_timeout:
                self._close_for("answers not taken", None)
        elif self._due and now > self._due and not self.flow.read_paused:
            late = "headers" if self._in_headers else "body"
            busy = self._running is not None and not self._running.response_complete
            self._close_for(f"{late} too slow", None if busy else _TIMEOUT)

    def _close_for(self, reason: str, answer: bytes | None) -> None:
        limits = self.listener.limits
        self.listener.log.warning(
            reason,
            "HTTP connection closed: %s (limits: headers in %g s, body in %g s, "
            "answers taken within %g s, headers up to %d bytes)",
            reason,
            limits.header_timeout,
            limits.body_timeout,
            limits.stall_timeout,
            limits.max_header_bytes,
        )
        self._disconnect_cycles()
        if answer is None:
            self.transport.abort()
        else:
            self.transport.write(answer)
            self.transport.close()


class _HeadWithBody:
    """The transport as one request's cycle sees it: the response head is held and written
    with the body's first bytes, one write and one segment where uvicorn makes two (a
    single-recipient send took 102-105 instead of 114-144 µs of the node's CPU, and the
    client reads one segment: bench/RESULTS.md). An interim "100 Continue" is written at
    once; a head whose body never comes goes out when the cycle closes the connection."""

    __slots__ = ("_head", "_started", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head = b""
        self._started = False

    def write(self, data: bytes) -> None:
        if not self._started and not data.startswith(_CONTINUE):
            self._started = True
            self._head = data
            return
        if self._head:
            data, self._head = self._head + data, b""
        self._transport.write(data)

    def close(self) -> None:
        if self._head:
            self._transport.write(self._head)
            self._head = b""
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _Refused(asyncio.Protocol):
    """A connection past the cap: its 503 is written and the write side shut at once; what the
    client sends is read and dropped until it closes (or _LINGER passes), so that closing does
    not reset the connection before the client has read its answer."""

    def __init__(self, transport: asyncio.Transport, server_state: ServerState) -> None:
        self._transport = transport
        self._connections = cast(set[Any], server_state.connections)
        self._connections.add(self)  # so that uvicorn's shutdown closes it too
        transport.write(_BUSY)
        transport.write_eof()
        self._linger = asyncio.get_running_loop().call_later(_LINGER, transport.close)

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> bool:
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        self._linger.cancel()

    def shutdown(self) -> None:
        self._transport.close()


def protocol_class(limits: HttpLimits) -> type[GuardedHttpProtocol]:
    """The protocol class for one listener: uvicorn builds one instance per connection from a
    class, so the state the connections share rides on a subclass made per listener."""

    class ListenerHttpProtocol(GuardedHttpProtocol):
        listener = _Listener(limits)

    return ListenerHttpProtocol
