"""Inbound SMS (MO) from the operators' binds: parts joined (gateway/inbound_assembly.py),
each whole message routed to the account that owns its number (domain/inbound_routing.py),
read for an opt-out or opt-in (domain/optout.py) and stored; an unroutable one is stored too,
for the admin to see, never dropped.

A message in one part is answered to the operator only once it is stored: a store failure
answers ESME_RSYSERR and the operator sends it again. A part of a concatenated message is
answered once it is kept in the store (KeptInboundPart, this node's): a node killed between
two parts loads what it kept when it restarts (`load`) and the message completes, or times
out as what arrived; nothing the operator was told is taken is lost. The whole message is
stored, and its kept parts deleted, in one transaction; if that fails it is tried again.
Parts are joined in memory (inbound_assembly.py), so the kept rows are only written, never
read, while the node lives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Sequence

from smsgate.domain.inbound_routing import (
    InboundRoutes,
    NumberRoute,
    RouteConflict,
    Routed,
    Unroutable,
)
from smsgate.domain.optout import OptChange, OptOutWords, opt_request
from smsgate.domain.phone import PhoneNormalizer
from smsgate.gateway.inbound_assembly import DEFAULT_TIMEOUT, InboundMessage, Reassembly, key_of
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.inbound_part import InboundPart
from smsgate.smpp.udh import Concat
from smsgate.store.records import KeptInboundPart, NewInbound
from smsgate.store.roles import Inbound
from smsgate.ttl_cache import TtlCache

log = logging.getLogger(__name__)

RETRY_AFTER = 1.0  # seconds before a joined message the store refused is tried again
ROUTES_TTL = 5.0  # seconds a routing table read from the store is used: `admin numbers add`
# takes effect on a running node within this long, or at once for the number's first SMS:
MISS_RELOAD = 1.0  # an SMS no route takes reads the table again, at most once this often
# (a number just added is routed; a flood to an unassigned number costs one read a second).


class InboundIntake:
    """One per node (`node_id`: whose kept parts are its own), shared by its connectors.
    `load()` takes back what a previous life kept; `run()` releases timed-out messages.
    `stored` is called with the accounts that got messages (to wake their deliveries) and
    `opted` with the accounts whose suppression list changed."""

    def __init__(
        self,
        store: Inbound,
        *,
        words: OptOutWords | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        phones: PhoneNormalizer | None = None,
        clock: Callable[[], float] = time.time,
        stored: Callable[[Sequence[int]], None] | None = None,
        opted: Callable[[int], None] | None = None,
        node_id: int = 0,
    ) -> None:
        self._store = store
        self._node_id = node_id
        self._words = words or OptOutWords.of()
        self._assembly = Reassembly(timeout=timeout)
        self._phones = phones or PhoneNormalizer()
        self._clock = clock
        self._stored = stored
        self._opted = opted
        self._routes: TtlCache[int, InboundRoutes] = TtlCache(ROUTES_TTL, time.monotonic)
        self._wake = asyncio.Event()
        self._writes: set[asyncio.Task[bool]] = set()
        self._connectors: dict[tuple[str, str], str] = {}  # (source, destination) -> name
        self._kept: dict[tuple[str, str, int, int, bool], list[int]] = {}  # key -> part ids
        self._unstored: list[InboundMessage] = []  # joined, kept, not yet stored
        self._lines: dict[tuple[str, str], asyncio.Future[None]] = {}  # the last work of each
        self._retry_at = 0.0
        self._reloaded_at = -MISS_RELOAD  # monotonic time of the last reload for a miss
        self.received = 0  # whole messages stored (for tests and metrics)

    async def load(self) -> None:
        """Take back the parts this node kept in a life that ended before joining them."""
        kept = await self._store.kept_inbound_parts(self._node_id)
        wall, mono = self._clock(), time.monotonic()
        at = 0.0
        ready: list[InboundMessage] = []
        for k in kept:
            part = InboundPart(
                k.source,
                k.source_ton,
                k.destination,
                k.data_coding,
                k.payload,
                Concat(k.ref, k.total, k.seq, k.sixteen_bit),
            )
            # Its age in wall-clock time, so the reassembly timeout runs from its arrival;
            # never earlier than the part before (the assembly's times never decrease).
            at = max(at, mono - max(0.0, wall - k.received_at))
            self._remember(k.connector, part, k.id)
            ready.extend(self._assembly.add(part, at))
        if kept:
            log.info("took back %d kept parts of inbound SMS", len(kept))
        if ready:
            self._write("", ready)
        self._wake.set()

    def take(self, connector: str, part: InboundPart) -> int | asyncio.Future[int]:
        """The operator's answer to one MO part: once stored for a message in one part, once
        kept for a part of a concatenated one."""
        line = (part.source, part.destination)
        if part.concat is None:
            whole = self._assembly.add(part, time.monotonic())
            work = self._store_messages(connector, whole)
            return self._answer_when(self._spawn(self._in_order(line, work)))
        if self._assembly.seen(part):
            self._assembly.add(part, time.monotonic())  # counted as a copy
            return CommandStatus.ESME_ROK
        return self._answer_when(self._spawn(self._in_order(line, self._keep(connector, part))))

    async def _in_order(self, line: tuple[str, str], work: Coroutine[object, object, bool]) -> bool:
        """Run `work` after the work of the parts that came before on this line (a phone to
        one of our numbers), so a conversation is stored in the order it came; other lines
        go on meanwhile."""
        before = self._lines.get(line)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._lines[line] = mine
        try:
            if before is not None:
                try:
                    await before
                except BaseException:
                    work.close()  # cancelled while waiting: it never ran
                    raise
            return await work
        finally:
            mine.set_result(None)
            if self._lines.get(line) is mine:
                del self._lines[line]

    async def _keep(self, connector: str, part: InboundPart) -> bool:
        concat = part.concat
        assert concat is not None
        kept = KeptInboundPart(
            0,
            self._node_id,
            connector,
            part.source,
            part.source_ton,
            part.destination,
            concat.ref,
            concat.total,
            concat.seq,
            concat.sixteen_bit,
            part.data_coding,
            part.payload,
            self._clock(),
        )
        try:
            part_id = await self._store.keep_inbound_part(kept)
        except Exception:
            log.exception("cannot keep a part of an inbound SMS from %s", part.source)
            return False
        if part_id is None:  # kept already (a copy sent again): its first keeping counts
            return True
        self._remember(connector, part, part_id)
        ready = self._assembly.add(part, time.monotonic())
        self._wake.set()  # a new deadline, perhaps
        if ready:
            # Answered once stored, as a message in one part is, so messages are stored in
            # the order they came whole. Kept, it is not lost if this fails: tried again.
            await self._write(connector, ready)
        return True

    def _remember(self, connector: str, part: InboundPart, part_id: int) -> None:
        concat = part.concat
        assert concat is not None
        key = key_of(part, concat)
        self._kept.setdefault(key, []).append(part_id)
        # Which connector its parts came by, for the message if it times out.
        self._connectors[(part.source, part.destination)] = connector

    def _answer_when(self, task: asyncio.Task[bool]) -> asyncio.Future[int]:
        answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def done(t: asyncio.Task[bool]) -> None:
            ok = not t.cancelled() and t.exception() is None and t.result()
            answer.set_result(CommandStatus.ESME_ROK if ok else CommandStatus.ESME_RSYSERR)

        task.add_done_callback(done)
        return answer

    async def run(self) -> None:
        """Release, incomplete, the messages whose parts stopped coming, and store again the
        joined messages a store failure left waiting."""
        while True:
            deadline = self._assembly.next_deadline()
            wait = 1.0 if deadline is None else max(0.0, deadline - time.monotonic())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(wait, 1.0)):
                    await self._wake.wait()
            self._wake.clear()
            expired = self._assembly.expire(time.monotonic())
            if expired:
                await self._write("", expired)
            if self._unstored and time.monotonic() >= self._retry_at:
                again, self._unstored = self._unstored, []
                await self._write("", again)

    async def stop(self) -> None:
        """Wait for the writes under way. Messages still waiting for parts stay kept in the
        store: this node's next life takes them back (`load`)."""
        while self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _spawn(self, work: Coroutine[object, object, bool]) -> asyncio.Task[bool]:
        task = asyncio.get_running_loop().create_task(work)
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return task

    def _write(self, connector: str, messages: list[InboundMessage]) -> asyncio.Task[bool]:
        return self._spawn(self._store_messages(connector, messages))

    async def _store_messages(self, connector: str, messages: list[InboundMessage]) -> bool:
        release = [i for m in messages if m.key is not None for i in self._kept.get(m.key, ())]
        try:
            rows = await self._route(connector, messages)
            await self._store.store_inbound(rows, release)
        except Exception:
            log.exception("cannot store %d inbound SMS", len(messages))
            # Joined from kept parts (answered already): tried again, never dropped. A
            # message in one part was not answered yet: the operator sends it again.
            joined = [m for m in messages if m.key is not None]
            if joined:
                self._unstored.extend(joined)
                self._retry_at = time.monotonic() + RETRY_AFTER
            return False
        for m in messages:
            if m.key is not None:
                self._kept.pop(m.key, None)
        self.received += len(rows)
        for row in rows:
            if row.account_id is None:
                log.warning(
                    "inbound SMS from %s to %s is unroutable: %s",
                    row.source,
                    row.destination,
                    row.reason,
                )
            elif row.opt and self._opted is not None:
                self._opted(row.account_id)
        accounts = sorted({r.account_id for r in rows if r.account_id is not None})
        if accounts and self._stored is not None:
            self._stored(accounts)
        return True

    async def _route(self, connector: str, messages: list[InboundMessage]) -> list[NewInbound]:
        routes = await self._routes.get(0, self._load_routes)
        now = time.monotonic()
        if now - self._reloaded_at >= MISS_RELOAD and any(
            isinstance(routes.route(m.destination, m.text), Unroutable) for m in messages
        ):
            self._reloaded_at = now
            self._routes.clear()
            routes = await self._routes.get(0, self._load_routes)
        return [self._row(connector, m, routes) for m in messages]

    async def _load_routes(self) -> InboundRoutes:
        routes: list[NumberRoute] = []
        for r in await self._store.number_routes():
            route = NumberRoute(r.number, r.account_id, r.keyword or None)
            try:
                InboundRoutes([*routes, route])
            except RouteConflict as exc:
                # The store keeps one account per number and keyword; one number written two
                # ways ("+7000", "7000") is the admin's to fix: the first route wins meanwhile.
                log.warning("inbound number route %s ignored: %s", r, exc)
                continue
            routes.append(route)
        return InboundRoutes(routes)

    def _row(self, connector: str, message: InboundMessage, routes: InboundRoutes) -> NewInbound:
        source = self._phones.digits(message.source) or message.source
        request = opt_request(message.text, self._words)
        route = routes.route(message.destination, message.text)
        if request is not None and request.rest is not None:
            # "STOP SHOP" on a shared code leaves the list of the account that owns SHOP.
            by_rest = routes.route(message.destination, request.rest)
            if isinstance(by_rest, Routed) and by_rest.keyword is not None:
                route = by_rest
        opt = ""
        if request is not None:
            opt = "out" if request.change is OptChange.OPT_OUT else "in"
        came_by = self._connectors.pop(_pair(message), "")
        return NewInbound(
            source=source,
            destination=message.destination,
            text=message.text,
            data_coding=message.data_coding,
            parts=message.parts,
            total=message.total,
            connector=connector or came_by,
            received_at=self._clock(),
            account_id=route.account if isinstance(route, Routed) else None,
            keyword=(route.keyword or "") if isinstance(route, Routed) else "",
            reason=route.reason if isinstance(route, Unroutable) else "",
            opt=opt,
        )


def _pair(message: InboundMessage) -> tuple[str, str]:
    return (message.source, message.destination)
