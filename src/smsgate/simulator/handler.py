"""The simulated operator's behaviour as an SMPP server handler: authenticate, hand out message
ids, and send one delivery receipt per part that asked for one, after the configured delay.

A receipt is scheduled only once the submit_sm_resp carrying its id was written (unless the
early-receipt fault says otherwise). Nothing here is durable: receipts still pending when the
simulator stops are lost. Counters are aggregates or capped: a soak of millions of messages
keeps them at a fixed size.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import re
import time
from collections import Counter, deque
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from smsgate.simulator.config import SimulatorConfig
from smsgate.simulator.faults import FaultDraw, Faults
from smsgate.simulator.mobile import mo_pdus, reply_text
from smsgate.simulator.outcomes import ERR_OF_STAT, Outcome, OutcomePicker
from smsgate.smpp.constants import (
    DC_UCS2,
    ESM_DELIVERY_RECEIPT,
    ESM_UDHI,
    RD_RECEIPT_FAILURE,
    RD_RECEIPT_FINAL,
    RD_RECEIPT_MASK,
    CommandId,
    CommandStatus,
    MessageState,
    Tag,
)
from smsgate.smpp.pdu import DataSm, DeliverSm, Pdu, QuerySm, SubmitMulti, SubmitSm
from smsgate.smpp.receipt import receipt_text
from smsgate.smpp.server import (
    NO_REPLY,
    HandlerResult,
    MaybeAsync,
    Reply,
    ServerSession,
    SmppHandler,
)
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
    mo_sent: int = 0  # inbound SMS (MO) parts written to a bind
    # Submits per destination, for the first config.track_destinations destinations seen.
    by_destination: Counter[str] = field(default_factory=Counter)
    # (destination, reference, total, seqnum) of multipart parts seen, UDH or SAR (same cap).
    parts: Counter[tuple[str, int, int, int]] = field(default_factory=Counter)
    untracked: int = 0  # submits and parts past that cap, counted here only
    # Accepted messages per the stat their receipt carries (None: no receipt will come).
    outcomes: Counter[str | None] = field(default_factory=Counter)
    # Faults injected, by name (see faults.py), plus "unknown_receipt" and "refused_bind".
    faults: Counter[str] = field(default_factory=Counter)
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
        # The stats of the latest remember_ids message ids, for query_sm: slot n % size.
        self._remembered_ids: list[int] = [-1] * max(1, config.remember_ids)
        self._remembered_stats: list[str | None] = [None] * len(self._remembered_ids)
        self._draw = FaultDraw(config.seed)
        self.faults = config.faults
        self._per_submit = self.faults.any_per_submit  # the hot path skips faults when False
        self._mo_refs = itertools.count(1)

    def set_faults(self, faults: Faults) -> None:
        """Change the faults at run time (from the loop's thread); the next PDU sees them."""
        self.faults = self.config.faults = faults
        self._per_submit = faults.any_per_submit

    # --- binds --------------------------------------------------------------------------------

    def on_bind(self, session: ServerSession, pdu: Pdu) -> int:
        system_id = getattr(pdu, "system_id", "")
        password = getattr(pdu, "password", "")
        expected = self._credentials.get(system_id)
        faults = self.faults
        if faults.refuse_binds:
            self.faults = self.config.faults = faults.changed(refuse_binds=faults.refuse_binds - 1)
            self.counters.bind_failures += 1
            self.counters.faults["refused_bind"] += 1
            return faults.bind_refused_status
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

    def on_submit(self, session: ServerSession, pdu: SubmitSm) -> MaybeAsync:
        return self._accept(session, pdu)

    def on_data_sm(self, session: ServerSession, pdu: DataSm) -> MaybeAsync:
        return self._accept(session, pdu)

    def on_submit_multi(self, session: ServerSession, pdu: SubmitMulti) -> HandlerResult:
        # Accepted with one id; receipts for distribution lists are not simulated.
        self.counters.submits += 1
        return Reply(message_id=self._next_id())

    def on_query(self, session: ServerSession, pdu: QuerySm) -> HandlerResult:
        try:
            stat = self.outcome_of(pdu.message_id)
        except KeyError:
            return S.ESME_RQUERYFAIL
        state = Outcome(stat=stat).message_state if stat else MessageState.ENROUTE
        return Reply(message_id=pdu.message_id, message_state=int(state))

    def outcome_of(self, message_id: str) -> str | None:
        """The stat the receipt of `message_id` carries (None: no receipt will come). KeyError
        for an id never issued, or too old to be remembered (see config.remember_ids)."""
        try:
            n = int(message_id, 16 if self._hex else 10)
        except ValueError:
            raise KeyError(message_id) from None
        slot = n % len(self._remembered_ids)
        if n < 0 or self._remembered_ids[slot] != n:
            raise KeyError(message_id)
        return self._remembered_stats[slot]

    def on_deliver_resp(self, session: ServerSession, request: Pdu, response: Pdu) -> None:
        if response.command_status == 0 and getattr(request, "esm_class", 0) & ESM_DELIVERY_RECEIPT:
            self.counters.receipts_acked += 1

    # --- inbound SMS ---------------------------------------------------------------------------

    def send_mo(
        self,
        source: str,
        destination: str,
        text: str,
        system_id: str | None = None,
        *,
        lose: Collection[int] = (),
        ref: int | None = None,
    ) -> int:
        """Send an inbound SMS from phone `source` to number `destination` to `system_id`'s
        receiving bind (the first configured system_id by default), held until it binds;
        long texts as concatenated parts, except the part numbers in `lose` (a part lost on
        the way, for tests) under reference `ref` (the next one by default: a test sends
        the rest later under the same). Returns the number of parts; ValueError for a text
        that cannot be sent."""
        target = system_id if system_id is not None else self.config.credentials[0][0]
        if target not in self._credentials:
            raise ValueError(f"unknown system_id {target!r}")
        pdus = mo_pdus(source, destination, text, next(self._mo_refs) if ref is None else ref)
        for seq, pdu in enumerate(pdus, start=1):
            if seq not in lose:
                self._send_receipt(pdu, target, -1)
        return len(pdus)

    def _reply(self, pdu: SubmitSm | DataSm, system_id: str) -> None:
        """The magic reply number answers a message (its first part) with an MO."""
        if isinstance(pdu, SubmitSm) and pdu.esm_class & ESM_UDHI:
            try:
                udh, _ = parse_udh(pdu.short_message)
            except UdhError:
                udh = None
            if udh is not None and udh.concat is not None and udh.concat.seq != 1:
                return  # a later part of a long message: one reply per message
        text = reply_text(_text_of(pdu))
        asyncio.get_running_loop().call_later(
            self.config.receipt_delay,
            self.send_mo,
            pdu.destination_addr,
            pdu.source_addr,
            text,
            system_id,
        )

    def _accept(self, session: ServerSession, pdu: SubmitSm | DataSm) -> MaybeAsync:
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
        if self._per_submit:
            return self._accept_with_faults(session, pdu)
        return self._accept_plainly(session, pdu)

    def _accept_plainly(
        self, session: ServerSession, pdu: SubmitSm | DataSm, *, early: bool = False
    ) -> Reply | int:
        counters = self.counters
        destination = pdu.destination_addr
        if destination in counters.by_destination or (
            len(counters.by_destination) < self.config.track_destinations
        ):
            counters.by_destination[destination] += 1
        else:
            counters.untracked += 1
        self._count_part(pdu)
        outcome = self._picker.pick(destination)
        if outcome.submit_status:
            counters.refused += 1
            return outcome.submit_status
        counters.submits += 1
        counters.recent.append(pdu)
        if outcome.reply:
            self._reply(pdu, session.system_id)
        n = next(self._ids)
        message_id = format(n, "x") if self._hex else str(n)
        slot = n % len(self._remembered_ids)
        self._remembered_ids[slot] = n
        wants = pdu.registered_delivery & RD_RECEIPT_MASK
        if outcome.stat is None or not (
            wants == RD_RECEIPT_FINAL or (wants == RD_RECEIPT_FAILURE and outcome.failed)
        ):
            self._remembered_stats[slot] = None
            counters.outcomes[None] += 1
            return Reply(message_id=message_id)
        self._remembered_stats[slot] = outcome.stat
        counters.outcomes[outcome.stat] += 1
        receipt = self._receipt_for(pdu, message_id, outcome)
        delay = self.config.receipt_delay * outcome.delay_factor
        system_id = session.system_id
        session_id = session.id
        if early:  # the early-receipt fault: queued for writing ahead of its response
            self._send_receipt(receipt, system_id, session_id)
            return Reply(message_id=message_id)
        return Reply(
            message_id=message_id,
            after_sent=lambda: self._schedule(receipt, delay, system_id, session_id),
        )

    def _accept_with_faults(self, session: ServerSession, pdu: SubmitSm | DataSm) -> MaybeAsync:
        faults = self.faults
        fault = self._draw.pick(faults)
        counters = self.counters
        if self._draw.unknown_receipt(faults):
            counters.faults["unknown_receipt"] += 1
            stray = self._receipt_for(pdu, self._next_id(), Outcome())
            self._schedule(stray, self.config.receipt_delay, session.system_id, session.id)
        if fault is None:
            return self._accept_plainly(session, pdu)
        counters.faults[fault] += 1
        if fault == "throttle":
            counters.throttled += 1
            counters.refused += 1
            return S.ESME_RTHROTTLED
        if fault == "queue_full":
            counters.refused += 1
            return S.ESME_RMSGQFUL
        if fault == "lost":
            return NO_REPLY
        if fault == "malformed":
            # A submit_sm_resp whose message_id runs to the end of the body with no NUL: the
            # ESME cannot decode it, so its request stays unanswered. Written raw, past the codec.
            body = b"12345"
            header = (16 + len(body)).to_bytes(4, "big") + int(CommandId.SUBMIT_SM_RESP).to_bytes(
                4, "big"
            )
            session._conn.write(header + bytes(4) + pdu.sequence_number.to_bytes(4, "big") + body)
            return NO_REPLY
        reply = self._accept_plainly(session, pdu, early=fault == "early_receipt")
        if fault != "slow" or not isinstance(reply, Reply):
            return reply
        later: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()

        def answer() -> None:
            if not later.done():
                later.set_result(reply)

        asyncio.get_running_loop().call_later(faults.slow_delay, answer)
        return later

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
            self._count_key(key)
            return
        if isinstance(pdu, SubmitSm) and pdu.esm_class & ESM_UDHI:
            try:
                udh, _ = parse_udh(pdu.short_message)
            except UdhError:
                return
            if udh is not None and udh.concat is not None:
                c = udh.concat
                self._count_key((pdu.destination_addr, c.ref, c.total, c.seq))

    def _count_key(self, key: tuple[str, int, int, int]) -> None:
        parts = self.counters.parts
        if key in parts or len(parts) < self.config.track_destinations:
            parts[key] += 1
        else:
            self.counters.untracked += 1

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
        if pdu.esm_class & ESM_DELIVERY_RECEIPT:
            self.counters.receipts_sent += 1
        else:
            self.counters.mo_sent += 1

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
