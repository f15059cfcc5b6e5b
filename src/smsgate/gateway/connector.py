"""One operator connector: an SMPP client bind to an SMSC, submitting parts and turning the
operator's receipts into durable part states.

A receipt is acknowledged (deliver_sm_resp) only after it is stored, so a crash never loses one:
the operator sends it again. An operator that still throttles after the client's own retries
pauses the connector (not ready) for a moment, so routes fail over to their next connector.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from smsgate.batching import BatchQueue
from smsgate.config import ConnectorSettings
from smsgate.domain.ids import EPOCH_TICKS, TICKS_PER_SECOND, split_id
from smsgate.gateway import metrics
from smsgate.gateway.inbound_intake import InboundIntake
from smsgate.gateway.upstream import (
    ParsedReceipt,
    SubmitAnswer,
    classify_submit_response,
    query_sm_for,
    receipt_from_pdu,
    receipt_from_query,
    submit_sm_for,
)
from smsgate.log_limit import LimitedLog
from smsgate.smpp.client import NotAcknowledged, SmppClient, SmppClientError, status_name
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.inbound_part import inbound_part
from smsgate.smpp.pdu import DataSm, DeliverSm, Pdu, SubmitSmResp
from smsgate.smpp.pdu_error import PduError
from smsgate.store.records import ClaimedPart, OperatorReceipt, Unreceipted

log = logging.getLogger(__name__)
# Seconds a connector stays not ready after an answer of throttled or queue full that outlasted
# the client's retries (about 1.4 s of them): long enough to let the operator's queue drain.
THROTTLE_PAUSE = 1.0
_RECEIPT_TIMES = 100_000  # parts awaiting a receipt whose submit time is kept (~10 MB)
_BUSY = frozenset({CommandStatus.ESME_RTHROTTLED, CommandStatus.ESME_RMSGQFUL})


class Connector:
    def __init__(
        self,
        settings: ConnectorSettings,
        receipts: BatchQueue[OperatorReceipt, None],
        *,
        inbound: InboundIntake | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._receipts = receipts
        self._inbound = inbound
        self._clock = clock
        self._client = SmppClient(
            settings.host,
            settings.port,
            settings.system_id,
            settings.password,
            settings.bind_type,
            system_type=settings.system_type,
            window=settings.window,
            tps=settings.tps,
            tls=ssl.create_default_context() if settings.tls else None,
            response_timeout=settings.response_timeout,
            on_deliver=self._on_deliver,
            # A part must not wait for this bind to come back while another connector is up.
            queue_while_unbound=False,
            name=f"connector {settings.name}",
        )
        self._paused_until = 0.0  # time.monotonic() until which the operator said "busy"
        # With bound_resends: parts sent whose answer is not stored yet (settled() counts
        # them down), and parts waiting for one of those window slots.
        self._bound = settings.bound_resends
        self._unsettled = 0
        self._waiting: deque[tuple[ClaimedPart, Callable[[SubmitAnswer | BaseException], None]]]
        self._waiting = deque()
        self._limited_log = LimitedLog(log)
        # Bound children of this connector's series: no `labels()` lookup per part.
        self._submitted = metrics.SUBMITTED.labels(self.name)
        self._latency = metrics.SUBMIT_LATENCY.labels(self.name)
        self._to_operator = metrics.TIME_TO_OPERATOR.labels(self.name)
        self._to_receipt = metrics.TIME_TO_RECEIPT.labels(self.name)
        # operator id -> time.monotonic() of its submit_sm_resp, for the time to receipt; the
        # latest _RECEIPT_TIMES only, so parts whose receipt never comes cannot grow it.
        self._accepted_at: OrderedDict[str, float] = OrderedDict()

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def ready(self) -> bool:
        """Bound and not paused by throttling: the router may give it a part now."""
        if self._paused_until:
            if time.monotonic() < self._paused_until:
                return False
            self._paused_until = 0.0
        return self._client.bound

    @property
    def window(self) -> int:
        return self.settings.window

    @property
    def query_after(self) -> float | None:
        return self.settings.query_after

    async def start(self) -> None:
        await self._client.start()

    async def close(self) -> None:
        waiting, self._waiting = self._waiting, deque()
        for _part, done in waiting:  # never written: another connector may take them
            done(SubmitAnswer("unsent", error=CommandStatus.ESME_RSYSERR))
        await self._client.close()
        metrics.CONNECTOR_BOUND.labels(self.name).set(0)

    def describe(self) -> dict[str, object]:
        counters = self._client.counters
        return {
            "bound": self._client.bound,
            "host": self.settings.host,
            "port": self.settings.port,
            "paused": bool(self._paused_until) and time.monotonic() < self._paused_until,
            **self._client.health.describe(),
            # Counters since the node started: the dashboard turns them into rates.
            "window": self.settings.window,
            "window_in_use": self._client.in_window,
            "submitted": counters.submitted,
            "rejected": counters.rejected,
            "receipts": counters.delivered,
        }

    def submit_soon(
        self, part: ClaimedPart, done: Callable[[SubmitAnswer | BaseException], None]
    ) -> None:
        """Send one part; `done` gets the operator's answer, classified, or the error that kept
        it from being sent. A callback rather than a coroutine: no task per part.

        With bound_resends, at most `window` parts are sent and not yet settled(); the rest
        wait here for a slot, so that a crash can resend no more than that."""
        if self._bound:
            if self._unsettled >= self.settings.window:
                self._waiting.append((part, done))
                return
            self._unsettled += 1
        self._send(part, done)

    def settled(self) -> None:
        """A part sent here is done with: the operator refused it, it was never answered, or
        its answer was written to the store (or that write failed: its claim lapses)."""
        if not self._bound:
            return
        self._unsettled -= 1
        waiting = self._waiting
        while waiting and self._unsettled < self.settings.window:
            self._unsettled += 1
            part, done = waiting.popleft()
            self._send(part, done)

    def _send(
        self, part: ClaimedPart, done: Callable[[SubmitAnswer | BaseException], None]
    ) -> None:
        pdu = submit_sm_for(part, self.settings.concat)
        started = time.perf_counter()
        ours = part.message_id
        self._client.submit_soon(
            pdu, lambda response: done(self._classify(response, started, ours))
        )

    async def query(self, part: Unreceipted) -> ParsedReceipt | None:
        """Ask the operator about a part whose receipt has not come (query_sm): its final
        state, or None while it has none to tell. Raises SmppClientError when the bind is
        down, NotAcknowledged when no answer comes."""
        response = await self._client.submit(query_sm_for(part.operator_id, part.sender))
        return receipt_from_query(part.operator_id, response)

    def _classify(
        self, response: Pdu | BaseException, started: float, ours: int = 0
    ) -> SubmitAnswer | Exception:
        """`ours`: the part's message id (its acceptance time is in it), 0 when unknown."""
        if isinstance(response, NotAcknowledged):
            metrics.SUBMIT_ERRORS.labels(self.name, "unacknowledged").inc()
            return SubmitAnswer("temporary", error=CommandStatus.ESME_RSYSERR)
        if isinstance(response, SmppClientError):  # never written: the bind is down or closed
            metrics.SUBMIT_ERRORS.labels(self.name, "unsent").inc()
            return SubmitAnswer("unsent", error=CommandStatus.ESME_RSYSERR)
        if isinstance(response, BaseException):
            return response if isinstance(response, Exception) else RuntimeError(str(response))
        self._latency.observe(time.perf_counter() - started)
        message_id = response.message_id if isinstance(response, SubmitSmResp) else ""
        answer = classify_submit_response(response.command_status, message_id)
        if answer.kind == "accepted":
            self._submitted.inc()
            if ours:
                self._to_operator.observe(max(0.0, time.time() - accepted_at(ours)))
            accepted = self._accepted_at
            accepted[answer.operator_id] = time.monotonic()
            if len(accepted) > _RECEIPT_TIMES:
                accepted.popitem(last=False)
            return answer
        metrics.SUBMIT_ERRORS.labels(self.name, answer.kind).inc()
        if answer.error in _BUSY:
            self._paused_until = time.monotonic() + THROTTLE_PAUSE
            reason = f"throttled, the operator answers {status_name(answer.error)}"
            self._limited_log.warning(
                "busy",
                "connector %s: throttled, the operator answers %s after %d retries;"
                " pausing it %.1f s",
                self.name,
                status_name(answer.error),
                self._client.throttle_retries,
                THROTTLE_PAUSE,
                extra=self._client.health.noted("connector_throttled", reason),
            )
        return answer

    def _on_deliver(self, pdu: DeliverSm | DataSm) -> int | asyncio.Future[int]:
        parsed = receipt_from_pdu(pdu)
        if parsed is None:
            return self._on_inbound(pdu)
        receipt = OperatorReceipt(
            connector=self.name,
            operator_id=parsed.operator_id,
            state=parsed.state,
            error=parsed.error,
            at=self._clock(),
        )
        counter = metrics.RECEIPTS.labels(self.name, parsed.state.name)
        submitted = self._accepted_at.pop(parsed.operator_id, None)
        if submitted is not None:
            self._to_receipt.observe(time.monotonic() - submitted)
        # Acknowledged once stored; a receipt that is not stored is refused, so the operator
        # delivers it again later.
        batch = self._receipts.add(receipt)
        # From the batch's loop: asyncio.get_running_loop() is a getpid() call on Python 3.11.
        answer: asyncio.Future[int] = batch.get_loop().create_future()

        def stored(batch: asyncio.Future[None]) -> None:
            if batch.cancelled() or batch.exception() is not None:
                answer.set_result(CommandStatus.ESME_RSYSERR)
            else:
                counter.inc()
                answer.set_result(CommandStatus.ESME_ROK)

        batch.add_done_callback(stored)
        return answer

    def _on_inbound(self, pdu: DeliverSm | DataSm) -> int | asyncio.Future[int]:
        """A mobile-originated SMS (or a part of one): answered once stored (inbound_intake)."""
        try:
            part = inbound_part(pdu)
        except PduError as exc:
            log.warning(
                "connector %s: refusing an inbound %s: %s", self.name, type(pdu).__name__, exc
            )
            return exc.command_status
        if part is None or self._inbound is None:
            # An SME acknowledgement or intermediate notification: nothing to deliver.
            log.info("connector %s: ignoring a %s that is no SMS", self.name, type(pdu).__name__)
            return CommandStatus.ESME_ROK
        return self._inbound.take(self.name, part)


def accepted_at(message_id: int) -> float:
    """The time a message was accepted, read from its id (10 ms ticks; a node's ids run up to
    a second ahead of its clock just after it starts, so early figures may read short)."""
    return (split_id(message_id)[0] + EPOCH_TICKS) / TICKS_PER_SECOND
