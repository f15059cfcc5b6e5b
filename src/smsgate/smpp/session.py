"""One SMPP session as a sans-IO state machine (h11-style), used by both the ESME and SMSC side.

Feed it bytes and a time, ask it for events, and turn PDUs into bytes with send(). It owns
sequence numbers, the in-flight window, bind-state rules and timers as explicit deadlines; it
never touches a socket or reads a clock.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Final

from smsgate.immutable import record
from smsgate.smpp.constants import (
    HEADER_LENGTH,
    MAX_PDU_LENGTH,
    RESPONSE_BIT,
    CommandId,
    CommandStatus,
)
from smsgate.smpp.pdu import (
    EnquireLink,
    GenericNack,
    Pdu,
    PduError,
    Unbind,
    UnbindResp,
    decode,
    encode,
    make_response,
    pdu_class,
    peek_length,
)

__all__ = [
    "BindState",
    "BindStateChanged",
    "ConnectionShouldClose",
    "Event",
    "MalformedPdu",
    "NeedData",
    "PduReceived",
    "RequestRefused",
    "RequestTimedOut",
    "ResponseReceived",
    "Role",
    "Session",
    "SessionError",
    "UnbindReceived",
    "UnexpectedResponse",
    "UnreadableRequest",
    "WindowFull",
]

S = CommandStatus
C = CommandId
MAX_SEQUENCE: Final = 0x7FFFFFFF
# Plain ints for the comparisons on the hot path: looking up an enum member costs ~20x a global.
_UNBIND: Final = int(C.UNBIND)
_ENQUIRE_LINK: Final = int(C.ENQUIRE_LINK)
_GENERIC_NACK: Final = int(C.GENERIC_NACK)
_NEVER: Final = float("inf")
_LENGTH: Final = struct.Struct("!I")


class Role(Enum):
    ESME = "esme"
    SMSC = "smsc"


class BindState(Enum):
    OPEN = "open"  # connected, not bound
    BINDING = "binding"  # ESME: bind sent, no answer yet
    BOUND_TX = "bound_tx"
    BOUND_RX = "bound_rx"
    BOUND_TRX = "bound_trx"
    UNBINDING = "unbinding"  # our unbind is out
    DRAINING = "draining"  # the peer unbound: answering what it sent before, then unbind_resp
    CLOSED = "closed"


# --- events -----------------------------------------------------------------------------------


@record
class PduReceived:
    """A request the peer may send in this state; answer it with send(make_response(pdu, ...)).
    enquire_link and unbind never appear: the session answers those itself."""

    pdu: Pdu


@record
class ResponseReceived:
    """The answer to one of our requests (a generic_nack with its sequence number counts)."""

    request: Pdu
    response: Pdu


@record
class UnexpectedResponse:
    """A response matching no request in flight (late, duplicated, or of the wrong type)."""

    response: Pdu


@record
class RequestTimedOut:
    """No response within response_timeout; the request is no longer in flight."""

    request: Pdu


@record
class MalformedPdu:
    """Input the codec refused. `reply` (generic_nack or an error response, possibly empty) is
    already queued in data_to_send(); it is here for logs and tests."""

    error: PduError
    reply: bytes


@record
class UnreadableRequest:
    """A request of the bound customer (submit_sm, query_sm, ...) whose header is sound but
    whose body the codec refused (sm_length past 254, an address too long, a bad TLV). Unlike
    MalformedPdu it is not answered yet: it is owed like any request, and the owner answers it
    with send(make_response(request, status)), error.command_status unless it has cause to say
    otherwise (the SMPP door: ESME_RTHROTTLED to a customer over its rate). `request` is an
    empty PDU of its class with its sequence_number."""

    request: Pdu
    error: PduError


@record
class RequestRefused:
    """A well-formed request not allowed in this bind state; `reply` (ESME_RINVBNDSTS or
    ESME_RALYBND) is already queued in data_to_send()."""

    pdu: Pdu
    reply: bytes


@record
class UnbindReceived:
    """The peer unbound. With no answers owed the session already answered and is closed;
    otherwise an SMSC session is DRAINING: its unbind_resp follows the last owed response (or
    the response timeout), so a submit_sm written just before the unbind still gets its
    answer."""

    pdu: Pdu


@record
class BindStateChanged:
    old: BindState
    new: BindState


@record
class ConnectionShouldClose:
    """Flush data_to_send() and close the transport; the session accepts nothing more."""

    reason: str


@record
class NeedData:
    """No complete event is buffered; feed more bytes (or wait for the next deadline)."""


NEED_DATA: Final = NeedData()

Event = (
    PduReceived
    | ResponseReceived
    | UnexpectedResponse
    | RequestTimedOut
    | MalformedPdu
    | UnreadableRequest
    | RequestRefused
    | UnbindReceived
    | BindStateChanged
    | ConnectionShouldClose
    | NeedData
)


class SessionError(Exception):
    """A caller mistake: sending a PDU the current state does not allow."""


class WindowFull(SessionError):
    """send() of a request while `window` requests are already unanswered; check can_send."""


# --- the state table ----------------------------------------------------------------------------

_BOUND: Final = frozenset({BindState.BOUND_TX, BindState.BOUND_RX, BindState.BOUND_TRX})
_TX_OPS: Final = frozenset(
    {C.SUBMIT_SM, C.SUBMIT_MULTI, C.DATA_SM, C.QUERY_SM, C.CANCEL_SM, C.REPLACE_SM}
)
_RX_OPS: Final = frozenset({C.DELIVER_SM, C.DATA_SM, C.ALERT_NOTIFICATION})
_BINDS: Final = frozenset({C.BIND_TRANSMITTER, C.BIND_RECEIVER, C.BIND_TRANSCEIVER})
_ALWAYS: Final = frozenset({C.ENQUIRE_LINK})
_IN_BOUND: Final = frozenset({C.ENQUIRE_LINK, C.UNBIND})

# Requests the ESME side may issue, per state; the SMSC side may issue the mirror table.
_ESME_SENDS: Final[dict[BindState, frozenset[int]]] = {
    BindState.OPEN: _BINDS | _ALWAYS,
    BindState.BINDING: _ALWAYS,
    BindState.BOUND_TX: _TX_OPS | _IN_BOUND,
    BindState.BOUND_RX: _IN_BOUND,
    BindState.BOUND_TRX: _TX_OPS | _IN_BOUND,
    BindState.UNBINDING: frozenset(),
    BindState.DRAINING: frozenset(),
    BindState.CLOSED: frozenset(),
}
_SMSC_SENDS: Final[dict[BindState, frozenset[int]]] = {
    BindState.OPEN: frozenset({C.OUTBIND}) | _ALWAYS,
    BindState.BINDING: _ALWAYS,
    BindState.BOUND_TX: _IN_BOUND,
    BindState.BOUND_RX: _RX_OPS | _IN_BOUND,
    BindState.BOUND_TRX: _RX_OPS | _IN_BOUND,
    BindState.UNBINDING: frozenset(),
    BindState.DRAINING: frozenset(),
    BindState.CLOSED: frozenset(),
}
_BOUND_BY: Final[dict[int, BindState]] = {
    C.BIND_TRANSMITTER_RESP: BindState.BOUND_TX,
    C.BIND_RECEIVER_RESP: BindState.BOUND_RX,
    C.BIND_TRANSCEIVER_RESP: BindState.BOUND_TRX,
}
_NO_RESPONSE: Final = frozenset({C.OUTBIND, C.ALERT_NOTIFICATION})
_NACKED_STATUSES: Final = frozenset({S.ESME_RINVCMDLEN, S.ESME_RINVCMDID})


@dataclass(slots=True)
class _Pending:
    request: Pdu
    deadline: float
    internal: bool  # sent by the session itself (enquire_link), not the caller's to resubmit


class Session:
    """An SMPP v3.4 session for one connection.

    Times are floats in seconds on any monotonic scale the caller likes; every method that moves
    time takes `now` (omitted, the last time seen is used). Bytes the session decides to write on
    its own — answers to enquire_link and unbind, generic_nacks, timer-driven enquire_link — wait
    in data_to_send(); send() returns its bytes to the caller directly.
    """

    def __init__(
        self,
        role: Role,
        *,
        window: int = 10,
        response_timeout: float | None = 10.0,
        enquire_link_interval: float | None = 30.0,
        inactivity_timeout: float | None = None,
        session_init_timeout: float | None = None,
        now: float = 0.0,
    ) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.role = role
        self.window = window
        self.response_timeout = response_timeout
        self.enquire_link_interval = enquire_link_interval
        self.inactivity_timeout = inactivity_timeout
        self.session_init_timeout = session_init_timeout
        self.state = BindState.OPEN
        self._sends = _ESME_SENDS if role is Role.ESME else _SMSC_SENDS
        self._peer_sends = _SMSC_SENDS if role is Role.ESME else _ESME_SENDS
        # The two tables' rows for the current state, looked up once per state change: hashing
        # a plain Enum runs Python code, and the hot path would do it twice per PDU.
        self._may_send = self._sends[self.state]
        self._peer_may_send = self._peer_sends[self.state]
        self._is_bound = False
        self._now = now
        self._opened_at = now
        self._last_received = now
        self._next_seq = 1
        # Insertion order is send order and every request gets the same timeout, so the first
        # entry always holds the earliest response deadline.
        self._pending: dict[int, _Pending] = {}
        self._caller_pending = 0
        self._enquire_pending = False
        # Unparsed input from _offset on. A read that holds whole PDUs (the usual case) is kept
        # as the bytes it came in, each frame one slice of it; only a PDU split across reads
        # is collected in a bytearray (amortised appends, so a trickling peer costs linear time).
        self._buffer: bytes | bytearray = b""
        self._offset = 0
        self._events: deque[Event] = deque()
        self._outbox: list[bytes] = []
        self._framing_lost = False
        # Requests of the peer's handed to the caller (PduReceived) and not yet answered, and
        # the peer's unbind waiting for them (DRAINING).
        self._owed = 0
        self._unbind_seq = 0
        self._drain_deadline = _NEVER

    # --- inspection ------------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        return self._is_bound

    @property
    def can_send(self) -> bool:
        """Whether one more caller request fits in the window."""
        return self._caller_pending < self.window

    def allows(self, command_id: int) -> bool:
        """Whether send() takes a request with this command_id in the current state."""
        return command_id in self._may_send

    @property
    def in_flight_count(self) -> int:
        return self._caller_pending

    def in_flight(self) -> list[Pdu]:
        """Every request of the caller's still unanswered, oldest first — after a close these
        are the ones to resubmit."""
        return [p.request for p in self._pending.values() if not p.internal]

    # --- input -------------------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float | None = None) -> None:
        if now is not None:
            self._now = now
        if self.state is BindState.CLOSED or self._framing_lost or not data:
            return
        self._last_received = self._now
        buf = self._buffer
        off = self._offset
        if off >= len(buf):
            self._buffer = data if type(data) is bytes else bytes(data)
            self._offset = 0
        elif type(buf) is bytes:
            self._buffer = bytearray(buf[off:]) + data
            self._offset = 0
        else:
            buf += data

    def next_event(self) -> Event:
        events = self._events
        # One PDU at a time: the caller's answer to this one (a bind_resp, say) may change the
        # state the next one is judged in.
        while not events and self._parse_one():
            pass
        return events.popleft() if events else NEED_DATA

    def events(self) -> list[Event]:
        """Every event available now (next_event until NeedData)."""
        out: list[Event] = []
        while True:
            event = self.next_event()
            if event is NEED_DATA:
                return out
            out.append(event)

    def data_to_send(self) -> bytes:
        """Bytes the session queued on its own since the last call. Input is parsed lazily, so
        drain next_event() to NeedData first."""
        if not self._outbox:
            return b""
        data = b"".join(self._outbox)
        self._outbox.clear()
        return data

    # --- output ------------------------------------------------------------------------------

    def send(self, pdu: Pdu, now: float | None = None) -> bytes:
        """The wire bytes of `pdu`. A request gets the next sequence number and joins the window;
        a response keeps the sequence number of the request it answers. Raises SessionError when
        the state forbids the PDU, WindowFull above the window, PduError for unencodable values."""
        if now is not None:
            self._now = now
        command_id = pdu.command_id
        if command_id & RESPONSE_BIT:
            return self._send_response(pdu)
        if command_id not in self._may_send:
            raise SessionError(f"{type(pdu).__name__} not allowed in state {self.state.value}")
        if self._caller_pending >= self.window:
            raise WindowFull(f"{self._caller_pending} requests in flight, window {self.window}")
        seq = self._next_seq
        pdu.sequence_number = seq
        data = encode(pdu)
        self._next_seq = 1 if seq >= MAX_SEQUENCE else seq + 1
        if command_id not in _NO_RESPONSE:
            timeout = self.response_timeout
            deadline = self._now + timeout if timeout is not None else _NEVER
            self._pending[seq] = _Pending(pdu, deadline, False)
            self._caller_pending += 1
        if command_id in _BINDS:
            self._set_state(BindState.BINDING)
        elif command_id == _UNBIND:
            self._set_state(BindState.UNBINDING)
        return data

    def unbind(self, now: float | None = None) -> bytes:
        """The unbind to send; after its unbind_resp the session is closed."""
        return self.send(Unbind(), now)

    def close(self, reason: str = "closed by caller") -> list[Pdu]:
        """Mark the connection gone; returns in_flight() for the caller to resubmit."""
        unacked = self.in_flight()
        if self.state is not BindState.CLOSED:
            self._set_state(BindState.CLOSED)
            self._events.append(ConnectionShouldClose(reason))
        return unacked

    # --- timers ------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """The earliest time handle_timeout() has something to do, or None."""
        if self.state is BindState.CLOSED:
            return None
        deadlines: list[float] = []
        if self._pending and self.response_timeout is not None:
            deadlines.append(next(iter(self._pending.values())).deadline)
        if self.state is BindState.DRAINING and self._drain_deadline < _NEVER:
            deadlines.append(self._drain_deadline)
        if self._is_bound:
            if self.enquire_link_interval is not None and not self._enquire_pending:
                deadlines.append(self._last_received + self.enquire_link_interval)
            if self.inactivity_timeout is not None:
                deadlines.append(self._last_received + self.inactivity_timeout)
        elif self.session_init_timeout is not None and self.state in (
            BindState.OPEN,
            BindState.BINDING,
        ):
            deadlines.append(self._opened_at + self.session_init_timeout)
        return min(deadlines) if deadlines else None

    def handle_timeout(self, now: float) -> None:
        """Fire every timer due at `now`: expired requests, enquire_link, inactivity and
        session-init timers. Results appear as events and in data_to_send()."""
        self._now = now
        if self.state is BindState.CLOSED:
            return
        if self.state is BindState.DRAINING and now >= self._drain_deadline:
            # The caller never answered some request: unbind_resp goes out without it.
            self._outbox.append(self._finish_unbind())
            return
        if self.response_timeout is not None:
            while self._pending:
                seq, pending = next(iter(self._pending.items()))
                if pending.deadline > now:
                    break
                self._forget(seq)
                command_id = pending.request.command_id
                if pending.internal:
                    self.close("enquire_link unanswered")
                    return
                self._events.append(RequestTimedOut(pending.request))
                if command_id in _BINDS:
                    self.close("bind unanswered")
                    return
                if command_id == C.UNBIND:
                    self.close("unbind unanswered")
                    return
        if self._is_bound:
            if (
                self.inactivity_timeout is not None
                and now >= self._last_received + self.inactivity_timeout
            ):
                self.close("inactivity timeout")
                return
            if (
                self.enquire_link_interval is not None
                and not self._enquire_pending
                and now >= self._last_received + self.enquire_link_interval
            ):
                self._send_enquire_link()
        elif (
            self.session_init_timeout is not None
            and self.state in (BindState.OPEN, BindState.BINDING)
            and now >= self._opened_at + self.session_init_timeout
        ):
            self.close("session_init timeout: no bind")

    # --- internals ---------------------------------------------------------------------------

    def _set_state(self, new: BindState) -> None:
        old = self.state
        if old is not new:
            self.state = new
            self._may_send = self._sends[new]
            self._peer_may_send = self._peer_sends[new]
            self._is_bound = new in _BOUND
            self._events.append(BindStateChanged(old, new))

    def _track(self, pdu: Pdu, *, internal: bool) -> None:
        timeout = self.response_timeout
        deadline = self._now + timeout if timeout is not None else _NEVER
        self._pending[pdu.sequence_number] = _Pending(pdu, deadline, internal)
        if not internal:
            self._caller_pending += 1

    def _forget(self, seq: int) -> _Pending | None:
        pending = self._pending.pop(seq, None)
        if pending is not None:
            if pending.internal:
                self._enquire_pending = False
            else:
                self._caller_pending -= 1
        return pending

    def _send_enquire_link(self) -> None:
        pdu = EnquireLink(sequence_number=self._next_seq)
        self._next_seq = 1 if self._next_seq >= MAX_SEQUENCE else self._next_seq + 1
        self._track(pdu, internal=True)
        self._enquire_pending = True
        self._outbox.append(encode(pdu))

    def _send_response(self, pdu: Pdu) -> bytes:
        if self.state is BindState.CLOSED:
            raise SessionError(f"{type(pdu).__name__} after the session closed")
        data = encode(pdu)
        bound_as = _BOUND_BY.get(pdu.command_id)
        if (
            bound_as is not None
            and pdu.command_status == 0
            and self.role is Role.SMSC
            and self.state is BindState.OPEN
        ):
            self._set_state(bound_as)
        if self._owed:
            self._owed -= 1
            if not self._owed and self.state is BindState.DRAINING:
                # The last answer owed before the peer's unbind: its unbind_resp follows it.
                return data + self._finish_unbind()
        return data

    def _finish_unbind(self) -> bytes:
        data = encode(UnbindResp(sequence_number=self._unbind_seq))
        self.close("peer unbound")
        return data

    def _reply(self, pdu: Pdu) -> bytes:
        data = encode(pdu)
        self._outbox.append(data)
        return data

    def _parse_one(self) -> bool:
        """Consume at most one PDU from the buffer; False when no whole PDU is buffered."""
        if self._framing_lost or self.state is BindState.CLOSED:
            return False
        buf = self._buffer
        off = self._offset
        available = len(buf) - off
        if available < HEADER_LENGTH:
            self._compact()
            return False
        (length,) = _LENGTH.unpack_from(buf, off)
        if length < HEADER_LENGTH or length > MAX_PDU_LENGTH:
            try:
                peek_length(bytes(buf[off : off + 4]))
            except PduError as error:
                self._lose_framing(error, bytes(buf[off : off + HEADER_LENGTH]))
                return True
        if available < length:
            self._compact()
            return False
        if type(buf) is bytes:
            frame = buf if length == available and not off else buf[off : off + length]
        else:
            frame = bytes(memoryview(buf)[off : off + length])
        self._offset = off + length
        try:
            pdu = decode(frame)
        except PduError as error:
            self._malformed(error)
            return True
        if pdu.command_id & RESPONSE_BIT:
            self._on_response(pdu)
        elif 0 < pdu.sequence_number <= MAX_SEQUENCE:
            self._on_request(pdu)
        else:
            self._bad_sequence(pdu)
        return True

    def _compact(self) -> None:
        # Waiting for the rest of a PDU: drop what was parsed so the bytearray stays small.
        buf = self._buffer
        if self._offset and type(buf) is bytearray:
            del buf[: self._offset]
            self._offset = 0

    def _lose_framing(self, error: PduError, header: bytes) -> None:
        # A command_length outside the possible range: where the next PDU starts is unknowable.
        seq = int.from_bytes(header[12:16], "big") if len(header) >= 16 else 0
        error.sequence_number = seq
        reply = self._reply(GenericNack(sequence_number=seq, command_status=error.command_status))
        self._framing_lost = True
        self._buffer = b""
        self._offset = 0
        self._events.append(MalformedPdu(error, reply))
        self.close("framing lost: " + error.message)

    def _malformed(self, error: PduError) -> None:
        command_id = error.command_id
        seq = error.sequence_number or 0
        reply = b""
        if command_id is not None and command_id & RESPONSE_BIT:
            # Never nack a response (two peers could nack each other forever); the request it
            # answered times out instead.
            pass
        else:
            cls = pdu_class(command_id) if command_id is not None else None
            if (
                cls is None
                or command_id in _NO_RESPONSE
                or error.command_status in _NACKED_STATUSES
            ):
                nack = GenericNack(sequence_number=seq, command_status=error.command_status)
                reply = self._reply(nack)
            elif (
                self.role is Role.SMSC
                and command_id in _TX_OPS
                and command_id in self._peer_may_send
                and 0 < seq <= MAX_SEQUENCE
            ):
                # A bound customer's request with a field we cannot read is still its request:
                # the owner answers it, so it can count against the customer's rate.
                self._owed += 1
                self._events.append(UnreadableRequest(cls(sequence_number=seq), error))
                return
            else:
                reply = self._reply(make_response(cls(sequence_number=seq), error.command_status))
        self._events.append(MalformedPdu(error, reply))

    def _bad_sequence(self, pdu: Pdu) -> None:
        # §5.1.4 (sequence_number): "the allowed sequence_number range is from 0x00000001 to
        # 0x7FFFFFFF". A request outside it has a bad header, and §4.3 makes generic_nack the
        # answer to "an SMPP PDU submitted with an invalid message header"; it carries the
        # number as received, so the peer can still match it. The §5.1.3 table has no status
        # for a bad sequence_number: RINVCMDLEN and RINVCMDID would blame fields that are
        # fine (and peers take them as broken framing), RSYSERR blames us and peers retry it
        # as temporary, so it gets RUNKNOWNERR, the table's code for an error no other names.
        # The request itself is dropped: neither the caller nor the session acts on it.
        seq = pdu.sequence_number
        error = PduError(
            S.ESME_RUNKNOWNERR,
            f"sequence_number 0x{seq:08X} outside 0x00000001..0x7FFFFFFF",
            pdu.command_id,
            seq,
        )
        reply = self._reply(GenericNack(sequence_number=seq, command_status=error.command_status))
        self._events.append(MalformedPdu(error, reply))

    def _on_response(self, pdu: Pdu) -> None:
        pending = self._pending.get(pdu.sequence_number)
        if pending is None or (
            pdu.command_id != pending.request.command_id | RESPONSE_BIT
            and pdu.command_id != _GENERIC_NACK
        ):
            self._events.append(UnexpectedResponse(pdu))
            return
        self._forget(pdu.sequence_number)
        if pending.internal:
            return  # an enquire_link_resp: receiving it already reset the timers
        request = pending.request
        self._events.append(ResponseReceived(request, pdu))
        command_id = request.command_id
        if command_id in _BINDS and self.state is BindState.BINDING:
            if pdu.command_status == 0 and pdu.command_id != _GENERIC_NACK:
                self._set_state(_BOUND_BY[pdu.command_id])
            else:
                self._set_state(BindState.OPEN)
        elif command_id == _UNBIND:
            self.close("unbound")

    def _on_request(self, pdu: Pdu) -> None:
        command_id = pdu.command_id
        if command_id == _ENQUIRE_LINK:
            self._reply(make_response(pdu))
            return
        state = self.state
        if command_id == _UNBIND and (self._is_bound or state is BindState.UNBINDING):
            if self._owed and self._is_bound and self.role is Role.SMSC:
                # Requests that came before the unbind are answered first (a peer that writes
                # submit_sm and unbind together was charged for the submit and wants its id).
                # SMSC side only for now: our ESME client answers deliver_sm only while bound,
                # so draining there would hold its unbind_resp for the response timeout.
                self._events.append(UnbindReceived(pdu))
                self._unbind_seq = pdu.sequence_number
                timeout = self.response_timeout
                self._drain_deadline = self._now + timeout if timeout is not None else _NEVER
                self._set_state(BindState.DRAINING)
                return
            self._reply(UnbindResp(sequence_number=pdu.sequence_number))
            self._events.append(UnbindReceived(pdu))
            self.close("peer unbound")
            return
        if command_id in _BINDS and self.role is Role.SMSC:
            if state is BindState.OPEN:
                self._events.append(PduReceived(pdu))
                self._owed += 1
            else:
                reply = self._reply(make_response(pdu, S.ESME_RALYBND))
                self._events.append(RequestRefused(pdu, reply))
            return
        if command_id in self._peer_may_send:
            self._events.append(PduReceived(pdu))
            if command_id not in _NO_RESPONSE:
                self._owed += 1
            return
        if command_id in _NO_RESPONSE:
            return  # nothing to answer with; drop it
        reply = self._reply(make_response(pdu, S.ESME_RINVBNDSTS))
        self._events.append(RequestRefused(pdu, reply))
