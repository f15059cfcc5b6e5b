"""Sends one webhook or callback request over shared keep-alive connections and returns what
happened as an Attempt (status, latency, error text).

It never retries (beyond http11_client's one resend on a connection the server closed before
answering), never reads the store, never follows a redirect and never reads more than
`max_response_bytes` of an answer (raw, undecoded, so a compressed bomb stays small). Every
connection goes through safe_transport, and every URL is checked before it is used. Built on
our own HTTP/1.1 client (http11, http11_client) rather than httpx, whose layers cost over a
millisecond of CPU per callback (bench/RESULTS.md, "Webhook sender").
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from collections.abc import Hashable, Sequence
from types import TracebackType
from typing import cast

from smsgate.immutable import record
from smsgate.webhooks.attempt import Attempt, Failure, OutgoingRequest
from smsgate.webhooks.http11 import RequestInvalid, ResponseHead, encode_request
from smsgate.webhooks.http11_client import (
    ConnectionPool,
    ConnectTimedOut,
    ExchangeFailed,
    Origin,
)
from smsgate.webhooks.safe_transport import ConnectFailed, Resolver, system_resolver
from smsgate.webhooks.url_safety import UnsafeUrl, check_url

USER_AGENT = "smsgate-webhooks/1"
_DEFAULT_HEADERS = (
    ("user-agent", USER_AGENT),
    ("accept", "*/*"),
    ("accept-encoding", "identity"),
)
# A batch's requests to one receiver are shared by a turn (a task and a connection) per this
# many: a task per request was a tenth of a callback's CPU in the pump (bench/RESULTS.md,
# "callbacks' CPU"). The price: a slow receiver gets a batch in up to this many rounds, so
# its callbacks wait up to that many answers; a backlog makes batches, and so turns, larger,
# up to max_per_receiver. Small batches keep a turn per request up to _MIN_TURNS.
_PER_TURN = 4
_MIN_TURNS = 4
_ERROR_EXCERPT = 200  # characters of a refusing receiver's body kept in the error text
# Checked URLs kept per sender: a callback URL or an endpoint repeats for every message, and
# checking one (httpx.URL parsing) costs ~40 us. Cleared whole when full: GET callbacks, whose
# URLs differ per message, only refill it.
_CHECKED_URLS = 1024


@record
class _Target:
    origin: Origin
    path: str  # origin-form target: path and query, percent-encoded
    host_header: str


@record
class SenderSettings:
    connect_timeout: float = 5.0
    total_timeout: float = 15.0  # from holding a connection slot (connecting included) to the end
    max_response_bytes: int = 64 * 1024
    max_connections: int = 256  # across all endpoints; keep-alive ones are reused
    # Sends to one receiver (scheme, host, port) at once, the rest waiting their turn: a
    # batch of 500 callbacks does not open hundreds of connections to a customer's server,
    # and a receiver that never answers holds this many of the slots, not all of them.
    max_per_receiver: int = 128
    keepalive_expiry: float = 30.0
    allow_private: bool = False  # loopback and private addresses (the `make run` demo)


class HttpSender:
    """One per process; `send` may be called from many tasks at once.

    The time limits and `latency` start once a connection slot is held: a send waiting for
    one of the `max_connections` slots (all busy with other sends), or for its turn among the
    `max_per_receiver` sends to the same receiver, is not the endpoint's delay, so it neither
    uses up the endpoint's time nor shows in its latency.
    """

    def __init__(
        self,
        settings: SenderSettings | None = None,
        *,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.settings = s = settings if settings is not None else SenderSettings()
        self._pool = ConnectionPool(
            max_connections=s.max_connections,
            keepalive_expiry=s.keepalive_expiry,
            connect_timeout=s.connect_timeout,
            allow_private=s.allow_private,
            resolver=resolver,
        )
        self._targets: dict[str, _Target] = {}
        # The loop it sends on, from its first send (asyncio.get_running_loop() is a getpid()
        # system call on Python 3.11: not once per request).
        self._loop: asyncio.AbstractEventLoop | None = None
        if s.max_per_receiver < 1:
            raise ValueError("max_per_receiver must be at least 1")
        self._receivers: dict[Origin, _ReceiverTurns] = {}

    async def send(self, request: OutgoingRequest) -> Attempt:
        started = time.perf_counter()
        prepared = self._prepare(request, started)
        if isinstance(prepared, Attempt):
            return prepared
        origin, wire = prepared
        turns = self._turns(origin)
        try:
            # Waiting for a turn, like waiting for a pool slot, is not the receiver's time.
            async with turns.slots:
                return await self._exchange(request.method, origin, wire)
        finally:
            self._done_with(origin, turns)

    async def send_many(
        self, requests: Sequence[OutgoingRequest], chains: Sequence[Hashable] | None = None
    ) -> list[Attempt]:
        """`send` for each of `requests` at once, answered in their order, without a task per
        request: the requests to one receiver are shared out among a turn per `_PER_TURN` of
        them (at most `max_per_receiver`), each sending the next waiting request when its last
        one is answered, so a batch costs a task per connection it uses, not one per request.

        Requests with one key in `chains` (one message's callbacks: ENROUTE, then its final
        status) go one after another on one turn, in their order; the others (and those whose
        key is None) in parallel."""
        started = time.perf_counter()
        answers: list[Attempt | None] = [None] * len(requests)
        waiting: dict[Origin, deque[list[tuple[int, str, bytes]]]] = {}
        chained: dict[tuple[Origin, Hashable], list[tuple[int, str, bytes]]] = {}
        for index, request in enumerate(requests):
            prepared = self._prepare(request, started)
            if isinstance(prepared, Attempt):
                answers[index] = prepared
                continue
            origin, wire = prepared
            queue = waiting.get(origin)
            if queue is None:
                queue = waiting[origin] = deque()
            sent = (index, request.method, wire)
            key = None if chains is None else chains[index]
            if key is None:
                queue.append([sent])
            elif (origin, key) in chained:
                chained[(origin, key)].append(sent)
            else:
                queue.append(chained.setdefault((origin, key), [sent]))
        turns = [
            self._take_turns(origin, queue, answers)
            for origin, queue in waiting.items()
            for _ in range(self._turns_for(len(queue)))
        ]
        if len(turns) == 1:
            await turns[0]
        elif turns:
            await asyncio.gather(*turns)
        assert all(a is not None for a in answers)  # every queue was emptied
        return cast(list[Attempt], answers)

    def _turns_for(self, requests: int) -> int:
        """Turns that share a batch's `requests` to one receiver: one per `_PER_TURN` of
        them, but never fewer than `_MIN_TURNS` (nor more than the requests or the cap)."""
        wanted = max(-(-requests // _PER_TURN), _MIN_TURNS)
        return min(wanted, requests, self.settings.max_per_receiver)

    async def _take_turns(
        self,
        origin: Origin,
        queue: deque[list[tuple[int, str, bytes]]],
        answers: list[Attempt | None],
    ) -> None:
        """One turn at the receiver, sending the batch's waiting chains one after another."""
        turns = self._turns(origin)
        try:
            async with turns.slots:
                while queue:
                    for index, method, wire in queue.popleft():
                        answers[index] = await self._exchange(method, origin, wire)
        finally:
            self._done_with(origin, turns)

    def _prepare(self, request: OutgoingRequest, started: float) -> tuple[Origin, bytes] | Attempt:
        """The request's receiver and bytes, or the failed attempt of one that cannot go."""
        try:
            target = self._target(request.url)
            wire = encode_request(
                request.method,
                target.path,
                target.host_header,
                _with_defaults(request.headers),
                request.body,
            )
        except UnsafeUrl as exc:
            return _failed(started, Failure.URL_REFUSED, str(exc))
        except RequestInvalid as exc:
            return _failed(started, Failure.TRANSPORT, f"cannot send the request: {exc}")
        return target.origin, wire

    def _turns(self, origin: Origin) -> _ReceiverTurns:
        turns = self._receivers.get(origin)
        if turns is None:
            turns = self._receivers[origin] = _ReceiverTurns(self.settings.max_per_receiver)
        turns.users += 1
        return turns

    def _done_with(self, origin: Origin, turns: _ReceiverTurns) -> None:
        turns.users -= 1
        if not turns.users:
            del self._receivers[origin]

    async def _exchange(self, method: str, origin: Origin, wire: bytes) -> Attempt:
        lease = await self._pool.checkout(origin)
        started = time.perf_counter()
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.total_timeout
        try:
            response = await self._pool.exchange(
                lease, wire, method, self.settings.max_response_bytes, deadline
            )
        except UnsafeUrl as exc:  # includes safe_transport.AddressRefused
            return _failed(started, Failure.URL_REFUSED, str(exc))
        except ConnectTimedOut:
            limit = self.settings.connect_timeout
            return _failed(started, Failure.TIMEOUT, f"timed out connecting (limit {limit:g} s)")
        except TimeoutError:
            limit = self.settings.total_timeout
            return _failed(started, Failure.TIMEOUT, f"no answer in time (limit {limit:g} s)")
        except ConnectFailed as exc:
            return _failed(started, Failure.CONNECT, f"cannot connect: {exc}")
        except (ExchangeFailed, OSError) as exc:
            return _failed(started, Failure.TRANSPORT, f"{type(exc).__name__}: {exc}")
        finally:
            self._pool.checkin(lease)
        head, body = response.head, response.body
        status = head.status
        return Attempt(
            status=status,
            latency=time.perf_counter() - started,
            error=None if 200 <= status < 300 else _refusal(head, body),
            retry_after=head.header("retry-after"),
            body=body,
            truncated=response.truncated,
        )

    def _target(self, url: str) -> _Target:
        target = self._targets.get(url)
        if target is None:
            parsed = check_url(url, allow_private=self.settings.allow_private)
            port = parsed.port or (443 if parsed.scheme == "https" else 80)
            target = _Target(
                (parsed.scheme, parsed.raw_host.decode("ascii"), port),
                parsed.raw_path.decode("ascii"),
                parsed.netloc.decode("ascii"),
            )
            if len(self._targets) >= _CHECKED_URLS:
                self._targets.clear()
            self._targets[url] = target
        return target

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def __aenter__(self) -> HttpSender:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class _ReceiverTurns:
    """The sends to one receiver: at most the limit at once; `users` counts those sending and
    waiting, so the entry is dropped when the last one is done."""

    __slots__ = ("slots", "users")

    def __init__(self, limit: int) -> None:
        self.slots = asyncio.Semaphore(limit)
        self.users = 0


@functools.lru_cache(maxsize=256)  # a callback's headers are the same for every message
def _with_defaults(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Our default headers, minus any the request sets itself, then the request's."""
    if not headers:
        return _DEFAULT_HEADERS
    given = {name.lower() for name, _ in headers}
    return (*(h for h in _DEFAULT_HEADERS if h[0] not in given), *headers)


def _refusal(head: ResponseHead, body: bytes) -> str:
    status = head.status
    if 300 <= status < 400:
        where = head.header("location") or "nowhere"
        return f"HTTP {status}: redirect to {where} not followed; configure the final URL"
    excerpt = body[:_ERROR_EXCERPT].decode("utf-8", "replace").strip()
    return f"HTTP {status}: {excerpt}" if excerpt else f"HTTP {status}"


def _failed(started: float, failure: Failure, error: str) -> Attempt:
    return Attempt(None, time.perf_counter() - started, error, failure)
