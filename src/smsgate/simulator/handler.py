"""The simulated operator's behaviour as an SMPP server handler: authenticate, hand out message
ids, and send one delivery receipt per part that asked for one, after the configured delay.

A receipt is scheduled only once the submit_sm_resp carrying its id was written. Nothing here is
durable: receipts still pending when the simulator stops are lost.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime

from smsgate.simulator.config import SimulatorConfig
from smsgate.simulator.outcomes import ERR_OF_STAT, Outcome, OutcomePicker
from smsgate.smpp.constants import (
    DC_UCS2,
    ESM_DELIVERY_RECEIPT,
    ESM_UDHI,
    RD_RECEIPT_FAILURE,
    RD_RECEIPT_FINAL,
    RD_RECEIPT_MASK,
    CommandStatus,
    MessageState,
    Tag,
)
from smsgate.smpp.pdu import DataSm, DeliverSm, Pdu, QuerySm, SubmitMulti, SubmitSm
from smsgate.smpp.receipt import receipt_text
from smsgate.smpp.server import NO_REPLY, HandlerResult, Reply, ServerSession, SmppHandler
from smsgate.smpp.udh import UdhError, parse_udh

S = CommandStatus
# Plain ints on the per-message path: looking up an enum member costs ~20x a global.
_SAR_TOTAL_SEGMENTS = int(Tag.SAR_TOTAL_SEGMENTS)
_RECEIPTED_MESSAGE_ID = int(Tag.RECEIPTED_MESSAGE_ID)
_MESSAGE_STATE = int(Tag.MESSAGE_STATE)
_NOT_PRINTABLE = re.compile("[^ -~]")


@dataclass(slots=True)
class SimulatorCounters:
    """What the simulator saw and did; tests read these."""

    binds: int = 0
    bind_failures: int = 0
    submits: int = 0  # submit_sm and data_sm answered with an id
    refused: int = 0  # answered with an error status (magic numbers, throttling)
    throttled: int = 0
    dropped_connections: int = 0
    receipts_sent: int = 0
    receipts_acked: int = 0
    by_destination: Counter[str] = field(default_factory=Counter)
    # (destination, reference, total, seqnum) of every multipart part seen, UDH or SAR.
    parts: Counter[tuple[str, int, int, int]] = field(default_factory=Counter)
    # message id -> the stat its receipt carries (None: no receipt will come).
    outcomes: dict[str, str | None] = field(default_factory=dict)
    # The last accepted submit_sm/data_sm PDUs, newest last, for tests to inspect.
    recent: deque[SubmitSm | DataSm] = field(default_factory=lambda: deque(maxlen=1000))


@dataclass(order=True, slots=True)
class _DueReceipt:
    due: float
    order: int
    system_id: str = field(compare=False)
    session_id: int = field(compare=False)
    pdu: DeliverSm = field(compare=False)


class SimulatorHandler(SmppHandler):
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.counters = SimulatorCounters()
        self._credentials = dict(config.credentials)
        self._picker = OutcomePicker(config.mix, config.seed)
        first = config.first_message_id
        self._ids = itertools.count(first if first is not None else int(time.time() * 1000))
        self._hex = config.message_ids == "hex"
        self._sessions: dict[str, list[ServerSession]] = {}
        self._submits_in_session: Counter[int] = Counter()
        self._tps_window: dict[int, tuple[float, int]] = {}
        self._due: list[_DueReceipt] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        # Receipts for a system_id with no receiving bind right now wait here.
        self._held: dict[str, list[DeliverSm]] = {}
        self._states: dict[str | None, int] = {}  # message_state per outcome stat, worked out once

    # --- binds --------------------------------------------------------------------------------

    def on_bind(self, session: ServerSession, pdu: Pdu) -> int:
        system_id = getattr(pdu, "system_id", "")
        password = getattr(pdu, "password", "")
        expected = self._credentials.get(system_id)
        if expected is None:
            self.counters.bind_failures += 1
            return S.ESME_RINVSYSID
        if expected != password:
            self.counters.bind_failures += 1
            return S.ESME_RINVPASWD
        self.counters.binds += 1
        self._sessions.setdefault(system_id, []).append(session)
        asyncio.get_running_loop().call_soon(self._release_held, system_id)
        return S.ESME_ROK

    def on_close(self, session: ServerSession) -> None:
        binds = self._sessions.get(session.system_id)
        if binds and session in binds:
            binds.remove(session)
        self._submits_in_session.pop(session.id, None)
        self._tps_window.pop(session.id, None)
        # Receipts the peer never acknowledged go to its next bind, as an operator would.
        for pdu in session.undelivered():
            if isinstance(pdu, DeliverSm):
                self._held.setdefault(session.system_id, []).append(pdu)

    def on_unbind(self, session: ServerSession) -> None:
        return None

    # --- submits ------------------------------------------------------------------------------

    def on_submit(self, session: ServerSession, pdu: SubmitSm) -> HandlerResult:
        return self._accept(session, pdu)

    def on_data_sm(self, session: ServerSession, pdu: DataSm) -> HandlerResult:
        return self._accept(session, pdu)

    def on_submit_multi(self, session: ServerSession, pdu: SubmitMulti) -> HandlerResult:
        # Accepted with one id; receipts for distribution lists are not simulated.
        self.counters.submits += 1
        return Reply(message_id=self._next_id())

    def on_query(self, session: ServerSession, pdu: QuerySm) -> HandlerResult:
        if pdu.message_id not in self.counters.outcomes:
            return S.ESME_RQUERYFAIL
        stat = self.counters.outcomes[pdu.message_id]
        state = Outcome(stat=stat).message_state if stat else MessageState.ENROUTE
        return Reply(message_id=pdu.message_id, message_state=int(state))

    def on_deliver_resp(self, session: ServerSession, request: Pdu, response: Pdu) -> None:
        if response.command_status == 0:
            self.counters.receipts_acked += 1

    def _accept(self, session: ServerSession, pdu: SubmitSm | DataSm) -> HandlerResult:
        config = self.config
        if config.drop_after is not None:
            seen = self._submits_in_session[session.id]
            if seen >= config.drop_after:
                if seen == config.drop_after:
                    self.counters.dropped_connections += 1
                    self._submits_in_session[session.id] = seen + 1
                # Answers already queued still go out; then the line drops, with no unbind.
                session.close()
                return NO_REPLY
            self._submits_in_session[session.id] = seen + 1
        if config.never_answer:
            return NO_REPLY
        if config.throttle_tps is not None and self._over_tps(session, config.throttle_tps):
            self.counters.throttled += 1
            self.counters.refused += 1
            return S.ESME_RTHROTTLED
        destination = pdu.destination_addr
        self.counters.by_destination[destination] += 1
        self._count_part(pdu)
        outcome = self._picker.pick(destination)
        if outcome.submit_status:
            self.counters.refused += 1
            return outcome.submit_status
        self.counters.submits += 1
        self.counters.recent.append(pdu)
        message_id = self._next_id()
        wants = pdu.registered_delivery & RD_RECEIPT_MASK
        if outcome.stat is None or not (
            wants == RD_RECEIPT_FINAL or (wants == RD_RECEIPT_FAILURE and outcome.failed)
        ):
            self.counters.outcomes[message_id] = None
            return Reply(message_id=message_id)
        self.counters.outcomes[message_id] = outcome.stat
        receipt = self._receipt_for(pdu, message_id, outcome)
        delay = config.receipt_delay * outcome.delay_factor
        system_id = session.system_id
        session_id = session.id
        return Reply(
            message_id=message_id,
            after_sent=lambda: self._schedule(receipt, delay, system_id, session_id),
        )

    def _over_tps(self, session: ServerSession, limit: int) -> bool:
        now = asyncio.get_running_loop().time()
        start, count = self._tps_window.get(session.id, (now, 0))
        if now - start >= 1.0:
            start, count = now, 0
        self._tps_window[session.id] = (start, count + 1)
        return count >= limit

    def _count_part(self, pdu: SubmitSm | DataSm) -> None:
        tlvs = pdu.tlvs
        total = tlvs.get(_SAR_TOTAL_SEGMENTS)
        if total is not None:
            ref = tlvs.get(Tag.SAR_MSG_REF_NUM, 0)
            seq = tlvs.get(Tag.SAR_SEGMENT_SEQNUM, 0)
            key = (pdu.destination_addr, _as_int(ref), _as_int(total), _as_int(seq))
            self.counters.parts[key] += 1
            return
        if isinstance(pdu, SubmitSm) and pdu.esm_class & ESM_UDHI:
            try:
                udh, _ = parse_udh(pdu.short_message)
            except UdhError:
                return
            if udh is not None and udh.concat is not None:
                c = udh.concat
                self.counters.parts[(pdu.destination_addr, c.ref, c.total, c.seq)] += 1

    def _next_id(self) -> str:
        n = next(self._ids)
        return format(n, "x") if self._hex else str(n)

    def _receipt_for(self, pdu: SubmitSm | DataSm, message_id: str, outcome: Outcome) -> DeliverSm:
        stat = outcome.stat or "DELIVRD"
        now = datetime.now()
        text = receipt_text(
            message_id,
            1,
            1 if stat == "DELIVRD" else 0,
            now,
            now,
            stat,
            ERR_OF_STAT.get(stat, 0),
            _text_of(pdu),
        )
        state = self._states.get(outcome.stat)
        if state is None:
            state = self._states[outcome.stat] = int(outcome.message_state)
        return DeliverSm(
            source_addr_ton=pdu.dest_addr_ton,
            source_addr_npi=pdu.dest_addr_npi,
            source_addr=pdu.destination_addr,
            dest_addr_ton=pdu.source_addr_ton,
            dest_addr_npi=pdu.source_addr_npi,
            destination_addr=pdu.source_addr,
            esm_class=ESM_DELIVERY_RECEIPT,
            short_message=text.encode("latin-1", "replace"),
            tlvs={
                _RECEIPTED_MESSAGE_ID: message_id,
                _MESSAGE_STATE: state,
            },
        )

    # --- receipt scheduling -------------------------------------------------------------------

    def _schedule(self, pdu: DeliverSm, delay: float, system_id: str, session_id: int) -> None:
        if delay <= 0:
            self._send_receipt(pdu, system_id, session_id)
            return
        loop = asyncio.get_running_loop()
        due = _DueReceipt(loop.time() + delay, next(self._order), system_id, session_id, pdu)
        heapq.heappush(self._due, due)
        if self._timer is None or due.due < self._timer_at:
            self._arm(loop, due.due)

    def _arm(self, loop: asyncio.AbstractEventLoop, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = loop.call_at(at, self._fire)

    def _fire(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        due = self._due
        while due and due[0].due <= now:
            item = heapq.heappop(due)
            self._send_receipt(item.pdu, item.system_id, item.session_id)
        if due:
            self._arm(loop, due[0].due)

    def _send_receipt(self, pdu: DeliverSm, system_id: str, session_id: int) -> None:
        target = self._receiver_for(system_id, session_id)
        if target is None:
            self._held.setdefault(system_id, []).append(pdu)
            return
        target.deliver_nowait(pdu)
        self.counters.receipts_sent += 1

    def _receiver_for(self, system_id: str, session_id: int) -> ServerSession | None:
        binds = self._sessions.get(system_id, ())
        for session in binds:
            if session.id == session_id and session.can_receive:
                return session
        receivers = [s for s in binds if s.can_receive]
        if not receivers:
            return None
        # The least busy receiving bind of that system_id, as SMSCs spread receipts.
        return min(receivers, key=lambda s: s.outbound_pending)

    def _release_held(self, system_id: str) -> None:
        held = self._held.pop(system_id, None)
        if not held:
            return
        for pdu in held:
            self._send_receipt(pdu, system_id, -1)

    def cancel_timers(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    @property
    def pending_receipts(self) -> int:
        return len(self._due) + sum(len(v) for v in self._held.values())


def _as_int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _text_of(pdu: SubmitSm | DataSm) -> str:
    if isinstance(pdu, DataSm):
        raw = pdu.tlvs.get(Tag.MESSAGE_PAYLOAD, b"")
        body = raw if isinstance(raw, bytes) else b""
    else:
        body = pdu.short_message or _payload(pdu)
        if pdu.esm_class & ESM_UDHI:
            try:
                _, body = parse_udh(body)
            except UdhError:
                body = b""
    if pdu.data_coding == DC_UCS2:
        text = body.decode("utf-16-be", "replace")
    else:
        text = body.decode("latin-1")
    # Receipt text travels as plain ASCII: keep printable characters only.
    return _NOT_PRINTABLE.sub("?", text[:20])


def _payload(pdu: SubmitSm) -> bytes:
    raw = pdu.tlvs.get(Tag.MESSAGE_PAYLOAD, b"")
    return raw if isinstance(raw, bytes) else b""
