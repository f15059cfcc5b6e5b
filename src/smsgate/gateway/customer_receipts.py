"""The outbox pump for SMPP customers: deliver_sm receipts from the store's outbox to the
receiver/transceiver binds of their account on this node, in order, marked done on an OK resp.

It never drops a row: with no receiving bind the rows wait in the store (across restarts), and
a receipt is never sent while the submit_sm_resp that carried its id may still be unwritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Protocol

from smsgate.domain.status import Status
from smsgate.record import record
from smsgate.smpp.constants import (
    ESM_DELIVERY_RECEIPT,
    NPI_ISDN,
    NPI_UNKNOWN,
    TON_ALPHANUMERIC,
    TON_INTERNATIONAL,
    CommandStatus,
    MessageState,
    Tag,
)
from smsgate.smpp.pdu import DeliverSm, Pdu
from smsgate.smpp.receipt import receipt_text
from smsgate.smpp.server import ServerSession
from smsgate.smpp.tlv import NetworkErrorCode, TlvValue
from smsgate.store.interface import Store
from smsgate.store.records import OutboxItem

log = logging.getLogger(__name__)

MESSAGE_STATE_OF_STATUS: dict[Status, MessageState] = {
    Status.ENROUTE: MessageState.ENROUTE,
    Status.DELIVRD: MessageState.DELIVERED,
    Status.EXPIRED: MessageState.EXPIRED,
    Status.UNDELIV: MessageState.UNDELIVERABLE,
    Status.REJECTD: MessageState.REJECTED,
}
_GSM_NETWORK = 1  # network_error_code type: GSM
_GATE_MAX_AGE = 30.0  # seconds; a response that was never written stops holding receipts back


class ReceiverDirectory(Protocol):
    """Who is bound on this node: the SMPP door implements it."""

    def receiving_accounts(self) -> Collection[int]:
        """Accounts with at least one receiver or transceiver bind right now."""

    def receivers(self, account_id: int) -> Sequence[ServerSession]:
        """That account's binds that may take deliver_sm now."""


class ResponseGate:
    """Holds receipts back while a submit whose response is not yet written is in progress.

    The door opens a ticket before it hands a submit to the gateway and closes it once the
    response bytes were written. Every message the submit creates has created_at >= the
    ticket's time, so a receipt whose message is not older than an open ticket of its account
    waits. Tickets opened later never hold back older receipts, so steady traffic starves
    nothing. The clock must be the submitter's (wall time).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._open: dict[int, tuple[int, float]] = {}  # ticket -> (account_id, opened_at)
        self._next = 0

    def open(self, account_id: int) -> int:
        self._next += 1
        self._open[self._next] = (account_id, self._clock())
        return self._next

    def close(self, ticket: int) -> None:
        self._open.pop(ticket, None)

    def holds(self, item: OutboxItem) -> bool:
        since = self.holding_since(item.account_id)
        return since is not None and since <= item.submitted_at

    def holding_since(self, account_id: int) -> float | None:
        """When the oldest open ticket of the account was opened: its receipts of messages
        created since then wait. None: nothing is held. One pass over the open tickets, so a
        batch of receipts is checked against it without a pass per receipt."""
        now = self._clock()
        oldest: float | None = None
        for owner, opened_at in self._open.values():
            if (
                owner == account_id
                and now - opened_at < _GATE_MAX_AGE
                and (oldest is None or opened_at < oldest)
            ):
                oldest = opened_at
        return oldest


def receipt_pdu(item: OutboxItem) -> DeliverSm:
    """The deliver_sm receipt for one outbox row: its PDU's id, the final state, swapped
    addresses (from the recipient to the customer's sender name)."""
    state = MESSAGE_STATE_OF_STATUS[item.status]
    pdu_id = str(item.pdu_id)
    text = receipt_text(
        pdu_id,
        1,
        1 if item.status is Status.DELIVRD else 0,
        _utc(item.submitted_at),
        _utc(item.done_at),
        item.status.value,
        item.error,
        _printable(item.text),
    )
    tlvs: dict[int, TlvValue] = {
        Tag.RECEIPTED_MESSAGE_ID: pdu_id,
        Tag.MESSAGE_STATE: int(state),
    }
    if item.error:
        tlvs[Tag.NETWORK_ERROR_CODE] = NetworkErrorCode(_GSM_NETWORK, min(item.error, 0xFFFF))
    sender_is_number = item.sender.lstrip("+").isdigit()
    return DeliverSm(
        source_addr_ton=TON_INTERNATIONAL,
        source_addr_npi=NPI_ISDN,
        source_addr=item.phone,
        dest_addr_ton=TON_INTERNATIONAL if sender_is_number else TON_ALPHANUMERIC,
        dest_addr_npi=NPI_ISDN if sender_is_number else NPI_UNKNOWN,
        destination_addr=item.sender,
        esm_class=ESM_DELIVERY_RECEIPT,
        short_message=text.encode("ascii", "replace"),
        tlvs=tlvs,
    )


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def _printable(text: str) -> str:
    # The receipt text travels as plain ASCII in data_coding 0: other characters become '?'.
    head = text[:20]
    if head.isascii() and head.isprintable():
        return head
    return "".join(c if " " <= c <= "~" else "?" for c in head)


@record
class PumpPolicy:
    interval: float = 0.1  # seconds between outbox polls
    batch: int = 500  # rows read and sent per account at a time
    chunk: int = 32  # receipts built per event-loop turn
    retry_after: float = 1.0  # pause for an account whose receipt was refused or not answered
    # A stream goes on only while the store offered its account this recently (for a leased
    # outbox: while this node still holds the account's lease); at least two polls.
    offer_grace: float = 1.0
    # A stream whose last read found less than a batch waits until this long after that read
    # before the next one: rows gather into batches instead of costing a read and a commit each.
    linger: float = 0.02
    # A receipt the customer refused this many times (counted while this process runs) is
    # given up, so one it will never take does not hold its account to a pause every retry.
    give_up_after: int = 5


class CustomerReceipts:
    """`await start()` runs the pump in the background; `wake(account_id)` when one binds;
    `await stop()` lets deliveries in flight finish (rows not acknowledged stay pending).

    Each account with pending rows gets one stream: read a batch, send it within the bind's
    window, mark the acknowledged rows done, and read again; a batch that was not full lets
    the next one gather for `linger` while its commit runs. A refused receipt is retried after
    `retry_after`; after `give_up_after` refusals, or one ESME_RX_P_APPN (the customer's
    "permanent error"), it is marked done with a warning instead."""

    def __init__(
        self,
        store: Store,
        directory: ReceiverDirectory,
        gate: ResponseGate,
        policy: PumpPolicy | None = None,
    ) -> None:
        self._store = store
        self._directory = directory
        self._gate = gate
        self._policy = policy or PumpPolicy()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._busy: dict[int, asyncio.Task[None]] = {}  # account -> its stream
        self._paused_until: dict[int, float] = {}
        self._offered_at: dict[int, float] = {}  # account -> when the store last offered it
        self._refusals: dict[int, int] = {}  # outbox row -> times its customer refused it
        self.delivered = 0  # receipts acknowledged by customers (for metrics and tests)
        self.given_up = 0  # receipts marked done after refusals

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
            try:
                await self._round()
            except Exception:  # a store hiccup must not end the pump
                log.exception("customer receipt round failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._policy.interval):
                    await self._wake.wait()
            self._wake.clear()

    async def _round(self) -> None:
        bound = set(self._directory.receiving_accounts())
        if not bound:
            return
        offered = [a for a in await self._store.outbox_accounts() if a in bound]
        now = time.monotonic()
        for account_id in offered:
            self._offered_at[account_id] = now
            if account_id in self._busy or self._paused_until.get(account_id, 0.0) > now:
                continue
            task = asyncio.get_running_loop().create_task(self._deliver(account_id))
            self._busy[account_id] = task
            task.add_done_callback(self._finished(account_id))

    def _finished(self, account_id: int) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            self._busy.pop(account_id, None)
            if not task.cancelled() and task.exception() is not None:
                log.error("receipts for account %s failed", account_id, exc_info=task.exception())
                self._pause(account_id)

        return done

    def _still_offered(self, account_id: int) -> bool:
        grace = max(self._policy.offer_grace, 2 * self._policy.interval)
        return time.monotonic() - self._offered_at.get(account_id, -grace) < grace

    async def _deliver(self, account_id: int) -> None:
        loop = asyncio.get_running_loop()
        linger = self._policy.linger
        read_at = -linger
        # The commit of the last batch's acknowledged rows runs while the stream lingers; it
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
                sendable = await self._next_batch(account_id)
                receivers = [s for s in self._directory.receivers(account_id) if s.can_receive]
                if not sendable or not receivers:
                    return
                # The least busy bind takes the batch; deliver() keeps the window and the order.
                target = min(receivers, key=lambda s: s.outbound_pending)
                futures: list[asyncio.Future[Pdu]] = []
                chunk = self._policy.chunk
                try:
                    for start in range(0, len(sendable), chunk):
                        if start:
                            # ~120 receipts built at once held the customer's submit_sm
                            # answers back ~4 ms (traced on the door benchmark): whatever
                            # else is ready runs between chunks.
                            await asyncio.sleep(0)
                        futures.extend(
                            target.deliver(receipt_pdu(item))
                            for item in sendable[start : start + chunk]
                        )
                except Exception:
                    log.exception("cannot build receipts for account %s", account_id)
                    self._pause(account_id)
                    return
                answers = await asyncio.gather(*futures, return_exceptions=True)
                done: list[int] = []
                given_up: list[OutboxItem] = []
                for item, answer in zip(sendable, answers, strict=True):
                    if isinstance(answer, BaseException):
                        continue  # no answer or the bind went away: not the customer's "no"
                    if answer.command_status == 0:
                        done.append(item.id)
                    elif self._refused(item, answer.command_status):
                        given_up.append(item)
                if done or given_up:
                    flush = loop.create_task(self._mark_done(done, given_up))
                if len(done) + len(given_up) < len(sendable):
                    self._pause(account_id)
                    return
                if len(sendable) >= self._policy.batch:
                    read_at = -linger  # a full batch: there may be more at once
        finally:
            if flush is not None:
                await flush

    async def _next_batch(self, account_id: int) -> list[OutboxItem]:
        """The next pending rows in order, up to the first one the gate holds back (later rows
        wait too: receipts go out in order)."""
        items = await self._store.outbox_pending(account_id, self._policy.batch)
        held_since = self._gate.holding_since(account_id)
        if held_since is None:
            return items
        for i, item in enumerate(items):
            if held_since <= item.submitted_at:
                return items[:i]
        return items

    def _refused(self, item: OutboxItem, status: int) -> bool:
        """Count one refusal; True when the receipt is to be given up."""
        refusals = self._refusals.get(item.id, 0) + 1
        if refusals < self._policy.give_up_after and status != CommandStatus.ESME_RX_P_APPN:
            self._refusals[item.id] = refusals
            return False
        log.warning(
            "giving up receipt %s (message %s) for account %s: refused %d times, last 0x%08X",
            item.pdu_id,
            item.message_id,
            item.account_id,
            refusals,
            status,
        )
        return True

    async def _mark_done(self, done: list[int], given_up: list[OutboxItem]) -> None:
        await self._store.outbox_done(done + [item.id for item in given_up])
        for row in done:
            self._refusals.pop(row, None)
        for item in given_up:
            self._refusals.pop(item.id, None)
        self.delivered += len(done)
        self.given_up += len(given_up)

    def _pause(self, account_id: int) -> None:
        self._paused_until[account_id] = time.monotonic() + self._policy.retry_after
