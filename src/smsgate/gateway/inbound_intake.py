"""Inbound SMS (MO) from the operators' binds: parts joined (gateway/inbound_assembly.py),
each whole message routed to the account that owns its number (domain/inbound_routing.py),
read for an opt-out or opt-in (domain/optout.py) and stored; an unroutable one is stored too,
for the admin to see, never dropped.

The part that completes a message (or a message in one part) is answered to the operator only
once the message is stored: a store failure answers ESME_RSYSERR and the operator sends it
again. A part that waits for others is answered at once, and lives in this process's memory
until its message is whole or times out: operators send the next part only after the answer
to this one, so withholding it would stall every long message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence

from smsgate.domain.inbound_routing import (
    InboundRoutes,
    NumberRoute,
    RouteConflict,
    Routed,
    Unroutable,
)
from smsgate.domain.optout import OptChange, OptOutWords, opt_request
from smsgate.domain.phone import PhoneNormalizer
from smsgate.gateway.inbound_assembly import DEFAULT_TIMEOUT, InboundMessage, Reassembly
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.inbound_part import InboundPart
from smsgate.store.records import NewInbound
from smsgate.store.roles import Inbound
from smsgate.ttl_cache import TtlCache

log = logging.getLogger(__name__)

ROUTES_TTL = 5.0  # seconds a routing table read from the store is used: `admin numbers add`
# takes effect on a running node within this long.


class InboundIntake:
    """One per node, shared by its connectors. `run()` releases timed-out messages; `stop()`
    stores whatever is still waiting for parts, marked incomplete, rather than lose it.
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
    ) -> None:
        self._store = store
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
        self.received = 0  # whole messages stored (for tests and metrics)

    def take(self, connector: str, part: InboundPart) -> int | asyncio.Future[int]:
        """The operator's answer to one MO part: at once for a part that waits for others,
        once stored for a part that makes a message whole."""
        ready = self._assembly.add(part, time.monotonic())
        if not ready:
            # Which connector its parts came by, for the message if it times out.
            self._connectors[(part.source, part.destination)] = connector
            self._wake.set()  # a new deadline, perhaps
            return CommandStatus.ESME_ROK
        answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = self._write(connector, ready)

        def done(t: asyncio.Task[bool]) -> None:
            ok = not t.cancelled() and t.exception() is None and t.result()
            answer.set_result(CommandStatus.ESME_ROK if ok else CommandStatus.ESME_RSYSERR)

        task.add_done_callback(done)
        return answer

    async def run(self) -> None:
        """Release, incomplete, the messages whose parts stopped coming."""
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

    async def stop(self) -> None:
        """Store the messages still waiting for parts, as what arrived; wait for writes."""
        waiting = self._assembly.expire(float("inf"))
        if waiting:
            self._write("", waiting)
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _write(self, connector: str, messages: list[InboundMessage]) -> asyncio.Task[bool]:
        task = asyncio.get_running_loop().create_task(self._store_messages(connector, messages))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return task

    async def _store_messages(self, connector: str, messages: list[InboundMessage]) -> bool:
        try:
            routes = await self._routes.get(0, self._load_routes)
            rows = [self._row(connector, m, routes) for m in messages]
            await self._store.store_inbound(rows)
        except Exception:
            log.exception("cannot store %d inbound SMS", len(messages))
            return False
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
