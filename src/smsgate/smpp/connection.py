"""The asyncio glue between one transport and one Session: bytes in, events out, batched writes.

Shared by the client and the server. It decides nothing about SMPP: every event goes to the
owner's callback; it only drives the session's timers, writes once per event-loop turn, and
stops reading from a peer that does not read what it is sent (and drops it if that lasts).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any, Final, cast

from smsgate.smpp.pdu import Pdu
from smsgate.smpp.session import BindState, ConnectionShouldClose, Event, NeedData, Session

EventHandler = Callable[[Event], None]

# Queued PDUs go out at the end of the loop turn, or as soon as this many are waiting. Without
# the cap, two peers with a full window take turns: each handles a whole window while the other
# waits. Sending half of a 64-PDU window early lets the peer start on it while we do the rest.
FLUSH_EVERY: Final = 32
_CLOSED: Final = BindState.CLOSED
# Every request read makes an answer to write, so a peer that sends but never reads would grow
# our write buffer without bound (RSS 283 -> 536 MB in a minute of streamed enquire_link).
# Above this many unsent bytes reading stops; it resumes below a quarter of it (asyncio's
# default low mark).
WRITE_HIGH_WATER: Final = 256 * 1024
# A peer whose buffer stays above the mark this long is dropped: it is not reading at all.
WRITE_STALL_TIMEOUT: Final = 60.0
log = logging.getLogger(__name__)


class SessionProtocol(asyncio.Protocol):
    """Feeds a transport's bytes to `session` and hands each event to `on_event`.

    Writes are buffered and go out in one transport.write per loop turn (or per FLUSH_EVERY
    PDUs); callbacks registered with after_flush() run only once the bytes before them were
    handed to the transport.
    """

    def __init__(
        self,
        session: Session,
        on_event: EventHandler,
        on_lost: Callable[[BaseException | None], None],
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        write_stall_timeout: float | None = WRITE_STALL_TIMEOUT,
    ) -> None:
        self.session = session
        self.loop = loop or asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.peer: Any = None
        self._on_event = on_event
        self._on_lost = on_lost
        self._out: list[bytes] = []
        self._after: list[Callable[[], object]] = []
        self._flush_scheduled = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._closing = False
        self._stall_timeout = write_stall_timeout
        self._stall: asyncio.TimerHandle | None = None
        self.closed = asyncio.Event()

    # --- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not derive from asyncio.Transport but offer the same methods.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        self.peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Responses are small and latency-bound; batching is done here, not by Nagle.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.session.receive_data(b"", self.loop.time())
        self._arm_timer()

    def data_received(self, data: bytes) -> None:
        self.session.receive_data(data, self.loop.time())
        self._pump()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._cancel_timer()
        self._cancel_stall()
        self._closing = True
        self.session.close("connection lost")
        self._drain_events()
        self._out.clear()
        self._after.clear()
        self.closed.set()
        self._on_lost(exc)

    def pause_writing(self) -> None:
        # The peer reads slower than its requests make us write: read no more of them until it
        # catches up (what is in flight still gets answered), and give it a bounded time.
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.pause_reading()
        if self._stall_timeout is not None and self._stall is None:
            self._stall = self.loop.call_later(self._stall_timeout, self._on_stall)

    def resume_writing(self) -> None:
        self._cancel_stall()
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.resume_reading()

    # --- for the owner ------------------------------------------------------------------------

    def send(self, pdu: Pdu) -> None:
        """Encode `pdu` through the session (which may raise) and queue its bytes."""
        now = self.loop.time()
        data = self.session.send(pdu, now)
        self.write(data)
        if not pdu.command_id & 0x80000000:
            # A request's deadline is now + response_timeout: re-arm only if that comes sooner.
            timeout = self.session.response_timeout
            if self._timer is None or (timeout is not None and self._timer_at > now + timeout):
                self._arm_timer()
        elif self.session.state is _CLOSED and not self._closing:
            # That answer was the last one owed before the peer's unbind (its unbind_resp went
            # with it): the session closed, so its ConnectionShouldClose waits to be handled.
            self.loop.call_soon(self._pump)

    def write(self, data: bytes) -> None:
        if self.transport is None or not data:
            return
        out = self._out
        out.append(data)
        if len(out) >= FLUSH_EVERY:
            self.flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self.flush)

    def after_flush(self, callback: Callable[[], object]) -> None:
        """Run `callback` right after the bytes queued so far are written."""
        self._after.append(callback)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self._flush_scheduled = False
        if self._out and self.transport is not None:
            data = self._out[0] if len(self._out) == 1 else b"".join(self._out)
            self._out.clear()
            self.transport.write(data)
        if self._after:
            callbacks, self._after = self._after, []
            for callback in callbacks:
                callback()

    def close(self) -> None:
        """Write what is queued, then close the transport."""
        if self.transport is None:
            return
        self._closing = True
        self.flush()
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection now, unflushed bytes and all (fault injection, shutdown)."""
        if self.transport is not None:
            self._closing = True
            self._out.clear()
            self.transport.abort()

    # --- internals ----------------------------------------------------------------------------

    def _pump(self) -> None:
        self._drain_events()
        self.write(self.session.data_to_send())
        self._arm_timer()

    def _drain_events(self) -> None:
        session = self.session
        on_event = self._on_event
        while True:
            event = session.next_event()
            if type(event) is NeedData:
                return
            if type(event) is ConnectionShouldClose and not self._closing:
                self._closing = True
                on_event(event)
                # Let the owner's reaction and the session's last answer go out first.
                self.write(session.data_to_send())
                self.loop.call_soon(self.close)
                continue
            on_event(event)

    def _arm_timer(self) -> None:
        deadline = self.session.next_deadline()
        if deadline is None:
            self._cancel_timer()
            return
        if self._timer is not None and self._timer_at <= deadline:
            return  # fires early at worst, and then re-arms
        self._cancel_timer()
        self._timer_at = deadline
        self._timer = self.loop.call_at(deadline, self._on_timer)

    def _on_stall(self) -> None:
        self._stall = None
        transport = self.transport
        if transport is None:
            return
        log.warning(
            "SMPP peer %s read nothing of %d bytes waiting for %.0f s: dropping the connection",
            self.peer,
            transport.get_write_buffer_size(),
            self._stall_timeout,
        )
        self.abort()

    def _cancel_stall(self) -> None:
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        if self.transport is None:
            return
        self.session.handle_timeout(self.loop.time())
        self._pump()
