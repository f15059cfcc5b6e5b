"""The asyncio shell around `http11`: kept-alive connections per origin (scheme, host, port), at
most `max_connections` open at once, each opened by safe_transport, one request at a time each.

It times only the connect limit and an exchange's deadline given by the caller, and never
retries, except once: a request sent on a reused connection that the server closed before any
byte of an answer goes again on a fresh connection (see `ConnectionPool.exchange` for why
that is safe here). Waiting for a free connection is `checkout`, kept apart from `exchange` so
the caller's clock starts after it.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import cast

from smsgate.immutable import record
from smsgate.webhooks.http11 import (
    END,
    NEED_DATA,
    Data,
    ProtocolError,
    ResponseHead,
    ResponseParser,
)
from smsgate.webhooks.safe_transport import Resolver, connect_checked, system_resolver

Origin = tuple[str, str, int]  # scheme, host as resolved (IDNA, IPv6 without brackets), port


class ConnectTimedOut(Exception):
    """The connection (resolving, TCP and TLS together) took longer than the connect limit."""


class ExchangeFailed(Exception):
    """The connection broke during the exchange or the server spoke broken HTTP."""


class _ClosedBeforeAnswer(ExchangeFailed):
    """The server closed the connection before sending any byte of an answer."""


@record
class Response:
    head: ResponseHead
    body: bytes  # at most the cap given to `exchange`
    truncated: bool  # the body went on past the cap; the connection is dropped unread


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection: feeds what arrives to its parser and wakes the exchange
    when the response is complete, broken, or past the body cap."""

    def __init__(self, origin: Origin, pool: ConnectionPool) -> None:
        self.origin = origin
        self.pool = pool
        # Made by the pool's connect, on the loop it serves. Kept, because on Python 3.11 every
        # asyncio.get_running_loop() is a getpid() system call, and exchanges are many.
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.parser = ResponseParser()
        self.waiter: asyncio.Future[None] | None = None
        self.head: ResponseHead | None = None
        self.body = bytearray()
        self.cap = 0
        self.truncated = False
        self.closed = False
        self.parked = False  # in the pool's idle list
        self.idle_since = 0.0

    @property
    def reusable(self) -> bool:
        return not self.closed and not self.truncated and self.parser.reusable

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, request: bytes, method: str, cap: int, deadline: float) -> Response:
        """`deadline` in the loop's time: TimeoutError once it passes without a whole answer
        (the connection is closed then: what it still brings answers nobody)."""
        if self.closed or self.transport is None or self.transport.is_closing():
            raise _ClosedBeforeAnswer("connection closed while idle")
        self.parser.expect(method)
        self.head = None
        self.body = bytearray()
        self.cap = cap
        self.truncated = False
        waiter = self.waiter = self.loop.create_future()
        self.transport.write(request)
        # One timer handle, not asyncio.timeout(): that one costs a task lookup, a context
        # object and a reschedule per request, on the callbacks' hottest path.
        timer = self.loop.call_at(deadline, self._late, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self.waiter = None
        assert self.head is not None  # the waiter is resolved only once a head arrived
        return Response(self.head, bytes(self.body), self.truncated)

    def _late(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(TimeoutError())
            self.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            self.close()  # bytes that answer nothing we asked: the connection is not trusted
            return
        self.parser.feed(data)
        self._pump(waiter)

    def eof_received(self) -> bool | None:
        self.parser.feed_eof()
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            self._pump(waiter)
        self.closed = True
        return None  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            self.parser.feed_eof()
            self._pump(waiter)
            if not waiter.done():
                waiter.set_exception(ExchangeFailed(f"connection lost: {exc}"))
        elif self.parked:
            self.pool._lost_while_idle(self)

    def _pump(self, waiter: asyncio.Future[None]) -> None:
        parser = self.parser
        try:
            while True:
                event = parser.next_event()
                if event.__class__ is Data:
                    body = self.body
                    body += event.data
                    if len(body) > self.cap:
                        del body[self.cap :]
                        self.truncated = True
                        waiter.set_result(None)
                        return
                elif event is NEED_DATA:
                    return
                elif event is END:
                    waiter.set_result(None)
                    return
                else:
                    self.head = cast(ResponseHead, event)
        except ProtocolError as exc:
            failure = ExchangeFailed if parser.received_any else _ClosedBeforeAnswer
            waiter.set_exception(failure(str(exc)))
            self.close()


class Lease:
    """A right to one connection slot for `origin`: an idle connection handed over, or None
    until `ConnectionPool.exchange` opens one. Give it back with `ConnectionPool.checkin`."""

    __slots__ = ("connection", "origin")

    def __init__(self, origin: Origin, connection: _Connection | None) -> None:
        self.origin = origin
        self.connection = connection


class ConnectionPool:
    """Keep-alive connections shared by many tasks. At most `max_connections` are open or
    opening at once across all origins; when all are taken, `checkout` waits in line (origins
    served in turn, each one's callers first come, first served), and an idle connection to
    another origin is closed to make room rather than left to block.

    Under a full pool, a connection freed while another origin's turn has come is closed so
    that origin can open one: a reconnect is the price of no endpoint starving the others."""

    def __init__(
        self,
        *,
        max_connections: int,
        keepalive_expiry: float,
        connect_timeout: float,
        allow_private: bool,
        resolver: Resolver = system_resolver,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._max = max_connections
        self._expiry = keepalive_expiry
        self._connect_timeout = connect_timeout
        self._allow_private = allow_private
        self._resolver = resolver
        self._tls = tls
        self._idle: dict[Origin, list[_Connection]] = {}
        self._waiting: dict[Origin, deque[asyncio.Future[_Connection | None]]] = {}
        self._open = 0  # connections open or being opened, idle ones included
        self._closed = False

    @property
    def open_connections(self) -> int:
        return self._open

    async def checkout(self, origin: Origin) -> Lease:
        """A lease for `origin`, waiting as long as it takes for a slot: every slot comes back
        within the holder's own time limits, so the wait ends."""
        idle = self._idle.get(origin)
        if idle:
            connection = idle.pop()  # the most recently used: the least likely to be stale
            connection.parked = False
            if connection.loop.time() - connection.idle_since <= self._expiry:
                return Lease(origin, connection)
            connection.close()  # expired, and everything under it is older still
            for older in idle:
                older.parked = False
                older.close()
                self._pass_slot_on()
            idle.clear()
            return Lease(origin, None)  # the expired connection's slot
        if self._open < self._max:
            self._open += 1
            return Lease(origin, None)
        if self._close_an_idle_connection():
            return Lease(origin, None)
        waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(origin, deque()).append(waiter)
        try:
            return Lease(origin, await waiter)
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a slot, then cancelled
                self.checkin(Lease(origin, waiter.result()))
            raise

    async def exchange(
        self, lease: Lease, request: bytes, method: str, cap: int, deadline: float
    ) -> Response:
        """Sends `request` (from http11.encode_request) on the lease's connection, opening one
        if it has none, and reads the answer, keeping at most `cap` body bytes; TimeoutError
        once the loop's time passes `deadline` before the answer is whole.

        A server may close a kept-alive connection at the very moment a request goes out (its
        idle timeout). When that happens before any byte of an answer, the request goes once
        more on a fresh connection. For these callbacks that is safe even for a POST: delivery
        is at least once by contract, and a receiver that did act on the first copy sees the
        same request again, as it would on the delivery policy's next attempt; what it saves is
        a failed attempt and a backoff for a race that is nobody's fault. A fresh connection
        closed before an answer is a failure, never retried here.
        """
        connection = lease.connection
        if connection is None:
            connection = lease.connection = await self._connect(lease.origin, deadline)
            return await connection.exchange(request, method, cap, deadline)
        try:
            return await connection.exchange(request, method, cap, deadline)
        except _ClosedBeforeAnswer:
            connection.close()
            lease.connection = None
            connection = lease.connection = await self._connect(lease.origin, deadline)
            return await connection.exchange(request, method, cap, deadline)

    def checkin(self, lease: Lease) -> None:
        """Gives the lease back: a reusable connection goes to the next caller in line if that
        one wants its origin, else waits idle; anything else is closed and its slot passed on."""
        connection, lease.connection = lease.connection, None
        if connection is None:
            self._pass_slot_on()
            return
        if not connection.reusable or self._closed:
            connection.close()
            self._pass_slot_on()
            return
        turn = self._next_in_line()
        if turn is None:
            connection.parked = True
            connection.idle_since = connection.loop.time()
            self._idle.setdefault(lease.origin, []).append(connection)
        elif turn[0] == lease.origin:
            turn[1].set_result(connection)
        else:  # the next caller wants another origin: it gets this connection's slot
            connection.close()
            turn[1].set_result(None)

    async def aclose(self) -> None:
        """Closes idle connections now and busy ones as they are checked in."""
        self._closed = True
        for idle in self._idle.values():
            for connection in idle:
                connection.parked = False
                connection.close()
                self._open -= 1
        self._idle.clear()

    async def _connect(self, origin: Origin, deadline: float) -> _Connection:
        """A new connection within the connect limit; TimeoutError, as for the exchange, when
        the caller's deadline comes first."""
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()  # verifies the chain and the host name
            tls = self._tls
        loop = asyncio.get_running_loop()
        limit = min(loop.time() + self._connect_timeout, deadline)
        try:
            async with asyncio.timeout_at(limit):
                _, connection = await connect_checked(
                    lambda: _Connection(origin, self),
                    host,
                    port,
                    allow_private=self._allow_private,
                    tls=tls,
                    resolver=self._resolver,
                )
        except TimeoutError:
            if limit == deadline:
                raise  # the exchange's own time is up
            raise ConnectTimedOut(
                f"connecting to {host} took over {self._connect_timeout:g} s"
            ) from None
        return connection

    def _lost_while_idle(self, connection: _Connection) -> None:
        connection.parked = False
        idle = self._idle.get(connection.origin)
        if idle is not None and connection in idle:
            idle.remove(connection)
        self._pass_slot_on()

    def _pass_slot_on(self) -> None:
        turn = self._next_in_line()
        if turn is None:
            self._open -= 1
        else:
            turn[1].set_result(None)

    def _next_in_line(self) -> tuple[Origin, asyncio.Future[_Connection | None]] | None:
        """The next caller waiting for a slot, taken out of the line. Origins take turns (the
        one served goes to the back), so one endpoint's backlog cannot starve the others;
        within an origin, first come, first served."""
        for origin in list(self._waiting):
            waiting = self._waiting.pop(origin)
            while waiting:
                waiter = waiting.popleft()
                if not waiter.done():  # a cancelled caller has left the line
                    if waiting:
                        self._waiting[origin] = waiting
                    return origin, waiter
        return None

    def _close_an_idle_connection(self) -> bool:
        for origin, idle in self._idle.items():
            if idle:
                oldest = idle.pop(0)
                oldest.parked = False
                oldest.close()
                if not idle:
                    del self._idle[origin]
                return True
        return False
