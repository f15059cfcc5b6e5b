"""The outbox pump: one stream per account hands its pending items, in order, to a transport
and marks the delivered ones done. Retries, pauses and giving up are decided here, for every
transport alike.

It never drops a row: while the transport cannot reach an account, its rows wait in the store
(across restarts); an item the transport holds back (`Transport.sendable`) waits, and so do
the items after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable

from smsgate.gateway.at_rest import until_commit
from smsgate.gateway.outbox.source import OutboxSource
from smsgate.gateway.outbox.transport import (
    Delivered,
    OutboxAttempt,
    OutboxItem,
    Refused,
    Transport,
)
from smsgate.immutable import record
from smsgate.store.roles import Changes

log = logging.getLogger(__name__)


@record
class PumpPolicy:
    interval: float = 0.1  # seconds between outbox polls
    # At rest (nothing sending, nothing paused, no commit to the database since the last
    # poll), a poll is skipped for up to this long: rows due later (retries) come due
    # without a commit.
    idle_round_every: float = 1.0
    batch: int = 500  # rows read and sent per account at a time
    retry_after: float = 1.0  # pause for an account whose item was refused or not answered
    # A stream goes on only while the source offered its account this recently (for a leased
    # source: while this node still holds the account's lease); at least two polls.
    offer_grace: float = 1.0
    # A stream whose last read found less than a batch waits until this long after that read
    # before the next one: rows gather into batches instead of costing a read and a commit each.
    linger: float = 0.02
    # An item the customer refused this many times (counted while this process runs) is
    # given up, so one it will never take does not hold its account to a pause every retry.
    give_up_after: int = 5
    # Batches of one account in flight at once. 1 keeps an account's items strictly in order
    # (SMPP receipts); more lets a transport whose items are independent (HTTP callbacks,
    # which settle their own retries) keep sending while a slow receiver holds a batch.
    pipeline: int = 1
    # A pipelined stream with batches in flight reads only items above the last it sent (not
    # the in-flight ones again to skip them); this often, and whenever nothing is in flight,
    # it reads from the oldest, so items that came due below those (retries) or were committed
    # after them with a lower id (PostgreSQL sequences) are not passed over for longer.
    rescan_every: float = 1.0


class OutboxPump:
    """`await start()` runs the pump in the background; `wake(account_id)` when an account
    becomes reachable; `await stop()` lets deliveries in flight finish (rows not acknowledged
    stay pending).

    Each account with pending rows gets one stream: read a batch, hand the sendable prefix to
    the transport, mark the delivered rows done, and read again; a batch that was not full
    lets the next one gather for `linger` while its commit runs. A refused item is retried
    after `retry_after`; after `give_up_after` refusals, or one final refusal, it is marked
    done with a warning instead."""

    def __init__(
        self,
        source: OutboxSource,
        transport: Transport,
        policy: PumpPolicy | None = None,
        *,
        changes: Changes | None = None,
    ) -> None:
        """`changes`: the store's sign of commits; without one, or while it cannot tell,
        the pump polls every `interval`."""
        self._source = source
        self._changes = changes
        self._transport = transport
        self._policy = policy or PumpPolicy()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._busy: dict[int, asyncio.Task[None]] = {}  # account -> its stream
        self._paused_until: dict[int, float] = {}
        self._offered_at: dict[int, float] = {}  # account -> when the source last offered it
        self._refusals: dict[int, int] = {}  # outbox row -> times its customer refused it
        self._held_back = False  # a stream found rows the transport held back
        self.delivered = 0  # items acknowledged by customers (for metrics and tests)
        self.given_up = 0  # items marked done after refusals

    async def start(self) -> None:
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        streams = list(self._busy.values())
        for task in streams:
            task.cancel()
        if streams:
            await asyncio.gather(*streams, return_exceptions=True)

    def wake(self, account_id: int | None = None) -> None:
        if account_id is not None:
            self._paused_until.pop(account_id, None)
        self._wake.set()

    async def _run(self) -> None:
        while True:
            # Read before the round: a commit while it runs is not missed.
            seen = None if self._changes is None else self._changes.data_version()
            try:
                await self._round()
            except Exception:  # a store hiccup must not end the pump
                log.exception("%s outbox round failed", self._transport.kind)
            await self._rest(seen)

    async def _rest(self, seen: int | None) -> None:
        """Wait `interval`; then, if no stream is running and none found rows held back,
        on until something is committed to the database (a round would find what the last
        one found), the earliest pause ends or `idle_round_every` has passed. A wake() ends
        the wait at once."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._policy.interval):
                await self._wake.wait()
        held_back, self._held_back = self._held_back, False
        if (
            not self._wake.is_set()
            and self._changes is not None
            and not self._busy
            and not held_back
        ):
            now = time.monotonic()
            left = self._policy.idle_round_every - self._policy.interval
            pauses = [t - now for t in self._paused_until.values() if t > now]
            await until_commit(self._changes, seen, min([left, *pauses]), self._wake)
        self._wake.clear()

    async def _round(self) -> None:
        offered = await self._source.accounts(self._transport.ready_accounts())
        now = time.monotonic()
        for account_id in offered:
            self._offered_at[account_id] = now
            if account_id in self._busy or self._paused_until.get(account_id, 0.0) > now:
                continue
            stream = self._stream if self._policy.pipeline <= 1 else self._pipelined_stream
            task = asyncio.get_running_loop().create_task(stream(account_id))
            self._busy[account_id] = task
            task.add_done_callback(self._finished(account_id))

    def _finished(self, account_id: int) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            self._busy.pop(account_id, None)
            if not task.cancelled() and task.exception() is not None:
                log.error(
                    "%s for account %s failed",
                    self._transport.kind,
                    account_id,
                    exc_info=task.exception(),
                )
                self._pause(account_id)

        return done

    def _still_offered(self, account_id: int) -> bool:
        grace = max(self._policy.offer_grace, 2 * self._policy.interval)
        return time.monotonic() - self._offered_at.get(account_id, -grace) < grace

    async def _stream(self, account_id: int) -> None:
        loop = asyncio.get_running_loop()
        linger = self._policy.linger
        read_at = -linger
        # The commit of the last batch's delivered rows runs while the stream lingers; it
        # must finish before the next read, or that read would see those rows still pending.
        flush: asyncio.Task[None] | None = None
        try:
            while self._still_offered(account_id):
                wait = read_at + linger - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if flush is not None:
                    await flush
                    flush = None
                read_at = loop.time()
                items = await self._source.pending(account_id, self._policy.batch)
                sendable = items[: self._transport.sendable(account_id, items)]
                if not sendable:
                    if items:
                        # Held back for a reason that ends without a commit or a wake (the
                        # SMPP door's response gate): the pump polls until it is sent.
                        self._held_back = True
                    return
                try:
                    answers = await self._transport.deliver(account_id, sendable)
                except Exception:
                    log.exception(
                        "cannot deliver %s to account %s", self._transport.kind, account_id
                    )
                    self._pause(account_id)
                    return
                if answers is None:
                    return  # unreachable now: the rows wait until it is woken or offered
                done: list[int] = []
                given_up: list[OutboxItem] = []
                tried: list[OutboxAttempt] = []
                for item, answer in zip(sendable, answers, strict=True):
                    if answer is Delivered:
                        done.append(item.id)
                    elif isinstance(answer, OutboxAttempt):
                        tried.append(answer)
                    elif isinstance(answer, Refused) and self._refused(item, answer):
                        given_up.append(item)
                if done or given_up or tried:
                    flush = loop.create_task(self._mark_done(done, given_up, tried))
                if len(done) + len(given_up) + len(tried) < len(sendable):
                    self._pause(account_id)
                    return
                if len(sendable) >= self._policy.batch:
                    read_at = -linger  # a full batch: there may be more at once
        finally:
            if flush is not None:
                await flush

    async def _pipelined_stream(self, account_id: int) -> None:
        """Up to `pipeline` batches of the account in flight; a read skips the items already
        in flight (they stay pending in the store until their batch is settled) and those
        settled while it ran (it may have read them just before). While some are in flight a
        read asks only for items above the last one sent, and one from the oldest every
        `rescan_every`, or as soon as an item it held back for its message may go."""
        loop = asyncio.get_running_loop()
        policy = self._policy
        window = _InFlight()
        batches: set[asyncio.Task[None]] = set()
        rescan_at = loop.time()
        try:
            # A batch that failed pauses the account: the stream ends and a later round
            # starts it again.
            while self._still_offered(account_id) and not self._paused(account_id):
                if len(batches) >= policy.pipeline:
                    await asyncio.wait(batches, return_when=asyncio.FIRST_COMPLETED)
                    continue
                read = window.reading()
                if window.in_flight() and loop.time() < rescan_at and not window.unblocked:
                    items = await self._source.pending(account_id, policy.batch, window.highest)
                else:
                    rescan_at = loop.time() + policy.rescan_every
                    window.unblocked = False
                    items = await self._source.pending(account_id, policy.batch + window.size())
                fresh = window.fresh(items, read)[: policy.batch]
                if not fresh:
                    if not batches:
                        return
                    await asyncio.wait(
                        batches, timeout=policy.interval, return_when=asyncio.FIRST_COMPLETED
                    )
                    continue
                window.sending(fresh)
                batch = loop.create_task(self._send_batch(account_id, fresh, window))
                batches.add(batch)
                batch.add_done_callback(batches.discard)
                if len(fresh) < policy.batch:
                    await asyncio.sleep(policy.linger)  # let the next rows gather
        finally:
            if batches:
                await asyncio.gather(*batches, return_exceptions=True)

    async def _send_batch(
        self, account_id: int, items: list[OutboxItem], window: _InFlight
    ) -> None:
        """Deliver one batch of a pipelined stream and settle it in the store."""
        try:
            answers = await self._transport.deliver(account_id, items)
            if answers is None:
                return
            done = [i.id for i, a in zip(items, answers, strict=True) if a is Delivered]
            tried = [a for a in answers if isinstance(a, OutboxAttempt)]
            if done or tried:
                await self._mark_done(done, [], tried)
        except Exception:
            log.exception("cannot deliver %s to account %s", self._transport.kind, account_id)
            self._pause(account_id)
        finally:
            window.settled(items)

    def _refused(self, item: OutboxItem, refusal: Refused) -> bool:
        """Count one refusal; True when the item is to be given up."""
        refusals = self._refusals.get(item.id, 0) + 1
        if refusals < self._policy.give_up_after and not refusal.final:
            self._refusals[item.id] = refusals
            return False
        log.warning(
            "giving up %s item %s (message %s) for account %s: refused %d times, last %s",
            self._transport.kind,
            item.pdu_id,
            item.message_id,
            item.account_id,
            refusals,
            refusal.detail,
        )
        return True

    async def _mark_done(
        self, done: list[int], given_up: list[OutboxItem], tried: list[OutboxAttempt]
    ) -> None:
        if done or given_up:
            await self._source.done(done + [item.id for item in given_up])
        if tried:
            # Logged and settled by the store: delivered, due again later, or dead letters.
            await self._source.attempted(tried)
            self.delivered += sum(1 for a in tried if a.retry_at is None and not a.dead)
            self.given_up += sum(1 for a in tried if a.dead)
        for row in done:
            self._refusals.pop(row, None)
        for item in given_up:
            self._refusals.pop(item.id, None)
        self.delivered += len(done)
        self.given_up += len(given_up)

    def _paused(self, account_id: int) -> bool:
        return self._paused_until.get(account_id, 0.0) > time.monotonic()

    def _pause(self, account_id: int) -> None:
        self._paused_until[account_id] = time.monotonic() + self._policy.retry_after


class _InFlight:
    """A pipelined stream's items between a read and their settling: those in flight, and
    those settled since a read still running began (that read may hold them as pending)."""

    def __init__(self) -> None:
        self._in_flight: set[int] = set()
        # Messages with an item in flight -> how many: a later item of one (its final status
        # after ENROUTE) waits for them to settle, so a receiver hears a message in order.
        self._messages: Counter[int] = Counter()
        self._settled: dict[int, int] = {}  # item -> the settling's number
        self._settlings = 0
        self.highest = 0  # the highest item id ever sent: those above it never were
        # Messages with an item held back for them. Once one has none in flight, `unblocked`
        # asks for a read from the oldest: a held item may lie below `highest`, where a read
        # of what is new would pass it over until the next rescan.
        self._blocking: set[int] = set()
        self.unblocked = False

    def size(self) -> int:
        return len(self._in_flight) + len(self._settled)

    def in_flight(self) -> int:
        return len(self._in_flight)

    def reading(self) -> int:
        """A read begins: its mark for `fresh`."""
        return self._settlings

    def fresh(self, items: list[OutboxItem], read: int) -> list[OutboxItem]:
        """The items of a read begun at `read` that are neither in flight nor settled, nor a
        later item of a message with one in flight (held until it settles: `unblocked`); items
        settled before that read began cannot be in it or any later one, so they are let go."""
        skip = self._in_flight | self._settled.keys()
        self._settled = {i: n for i, n in self._settled.items() if n > read}
        messages = self._messages
        fresh = []
        for i in items:
            if i.id in skip:
                continue
            if i.message_id and i.message_id in messages:
                self._blocking.add(i.message_id)
                continue
            fresh.append(i)
        return fresh

    def sending(self, items: list[OutboxItem]) -> None:
        self._in_flight.update(i.id for i in items)
        self._messages.update(i.message_id for i in items if i.message_id)
        self.highest = max(self.highest, items[-1].id)  # read oldest first

    def settled(self, items: list[OutboxItem]) -> None:
        self._settlings += 1
        for item in items:
            self._in_flight.discard(item.id)
            self._settled[item.id] = self._settlings
        self._messages.subtract(i.message_id for i in items if i.message_id)
        self._messages = +self._messages  # drop the messages with none left in flight
        if self._blocking:
            free = {m for m in self._blocking if m not in self._messages}
            if free:
                self._blocking -= free
                self.unblocked = True
