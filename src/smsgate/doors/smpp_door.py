"""The SMPP v3.4 door: customers bind with their login and SMPP password and submit, query and
cancel messages; receipts go back to their receiver/transceiver binds.

Translation only: every decision (sender names, numbers, money, duplicates, rate limits) is the
gateway's; this module maps SMPP fields to a SendRequest and the gateway's answers to
command_status values. It keeps no messages: the parts of a long message wait in the store
(gateway/held_messages.py), each answered as soon as it is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from smsgate.config import SmppDoorSettings
from smsgate.domain.segments import decode_payload
from smsgate.doors.smpp_submits import SubmitQueue
from smsgate.doors.smpp_time import BadSmppTime, format_absolute, lifetime_seconds
from smsgate.gateway.customer_receipts import (
    MESSAGE_STATE_OF_STATUS,
    CustomerReceipts,
    PumpPolicy,
    ResponseGate,
)
from smsgate.gateway.errors import (
    AllDuplicates,
    InvalidRequest,
    RateLimited,
    Rejection,
    SenderNotAllowed,
    Unauthorized,
)
from smsgate.gateway.held_messages import ASSEMBLY_TIMEOUT, HeldMessages
from smsgate.gateway.model import SendItem, SendOutcome, SendRequest
from smsgate.gateway.service import Gateway
from smsgate.record import record
from smsgate.smpp.constants import (
    ESM_UDHI,
    RD_RECEIPT_MASK,
    CommandStatus,
    Tag,
)
from smsgate.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    CancelSm,
    DataSm,
    Pdu,
    QuerySm,
    SubmitMulti,
    SubmitSm,
    UnsuccessSme,
)
from smsgate.smpp.server import (
    HandlerResult,
    MaybeAsync,
    Reply,
    ServerSession,
    SmppHandler,
    SmppServer,
)
from smsgate.smpp.udh import UdhError, parse_udh
from smsgate.store.records import AccountRecord

__all__ = ["SmppDoor", "SmppDoorHandler", "status_for_rejection"]

S = CommandStatus
log = logging.getLogger(__name__)

# deliver_sm a bind may have unanswered: receipts stream to a customer at one batch per this
# many round trips, and the server's default (10) held a busy bind to a few thousand a second.
DELIVER_WINDOW = 64

_REJECTION_STATUS: dict[Rejection, int] = {
    Rejection.INVALID_PHONE: S.ESME_RINVDSTADR,
    Rejection.NO_TARIFF: S.ESME_RINVDSTADR,  # no route to that destination for this account
    Rejection.NO_MONEY: S.ESME_RSUBMITFAIL,
    Rejection.DUPLICATE: S.ESME_RSUBMITFAIL,
    Rejection.INVALID_TEXT: S.ESME_RINVMSGLEN,
}
_INVALID_FIELD_STATUS: dict[str, int] = {
    "sender": S.ESME_RINVSRCADR,
    "phone": S.ESME_RINVDSTADR,
    "text": S.ESME_RINVMSGLEN,
    "lifetime": S.ESME_RINVEXPIRY,
}


def status_for_rejection(rejection: Rejection) -> int:
    return _REJECTION_STATUS.get(rejection, S.ESME_RSUBMITFAIL)


def _held_error(why: Rejection | Exception | None) -> int:
    """The err of the REJECTD receipt of a long message refused after its parts were
    answered: the command_status its submit_sm would have got; never completed: SUBMITFAIL."""
    if why is None:
        return int(S.ESME_RSUBMITFAIL)
    if isinstance(why, Rejection):
        return status_for_rejection(why)
    return _status_for_error(why)


def _status_for_error(exc: Exception) -> int:
    if isinstance(exc, SenderNotAllowed):
        return S.ESME_RINVSRCADR
    if isinstance(exc, InvalidRequest):
        return _INVALID_FIELD_STATUS.get(exc.field, S.ESME_RSYSERR)
    if isinstance(exc, RateLimited):
        return S.ESME_RTHROTTLED
    if isinstance(exc, AllDuplicates):
        return S.ESME_RSUBMITFAIL
    return S.ESME_RSYSERR


@dataclass(slots=True)
class _Bind:
    account: AccountRecord
    session: ServerSession


@record
class _Body:
    """What one submit_sm/data_sm carries: its text octets and its place in a long message."""

    payload: bytes
    ref: int | None = None  # None: a message on its own
    total: int = 1
    seq: int = 1


class _BadPdu(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


class SmppDoorHandler(SmppHandler):
    """The door's behaviour over `smpp.server.SmppServer`. Also the pump's ReceiverDirectory."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        assembly_timeout: float = ASSEMBLY_TIMEOUT,
        pump_policy: PumpPolicy | None = None,
    ) -> None:
        self.gateway = gateway
        self.gate = ResponseGate()
        self.receipts = CustomerReceipts(gateway.store, self, self.gate, pump_policy)
        self._binds: dict[int, _Bind] = {}  # ServerSession.id -> who is bound there
        # Late bound: the node swaps `receipts` for its leased pump after construction.
        self.held = HeldMessages(
            gateway,
            _held_error,
            refused=lambda account_id: self.receipts.wake(account_id),
            timeout=assembly_timeout,
        )
        self._tickets: dict[int, list[int]] = {}  # session id -> open gate tickets
        self._submits: SubmitQueue[HandlerResult] = SubmitQueue(gateway)

    async def close_submits(self) -> None:
        """Let the submits handed to the gateway finish (their answers are written or, with
        the bind gone, dropped; what was accepted is stored either way)."""
        await self._submits.close()

    # --- ReceiverDirectory --------------------------------------------------------------------

    def receiving_accounts(self) -> Collection[int]:
        return {b.account.id for b in self._binds.values() if b.session.can_receive}

    def receivers(self, account_id: int) -> Sequence[ServerSession]:
        return [
            b.session
            for b in self._binds.values()
            if b.account.id == account_id and b.session.can_receive
        ]

    # --- binds --------------------------------------------------------------------------------

    async def on_bind(self, session: ServerSession, pdu: Pdu) -> int:
        if not isinstance(pdu, BindTransmitter | BindReceiver | BindTransceiver):
            return S.ESME_RBINDFAIL
        try:
            account = await self.gateway.authenticate_smpp(pdu.system_id, pdu.password)
        except Unauthorized:
            # Unknown login and wrong password answer alike: no probing for logins.
            return S.ESME_RINVPASWD
        if session.id in self._binds:
            return S.ESME_RALYBND
        binds = sum(1 for b in self._binds.values() if b.account.id == account.id)
        if binds >= account.max_binds:
            return S.ESME_RBINDFAIL
        self._binds[session.id] = _Bind(account, session)
        if not isinstance(pdu, BindTransmitter):
            # Runs after this bind_resp is written, when the session can take deliver_sm.
            asyncio.get_running_loop().call_soon(self.receipts.wake, account.id)
        return S.ESME_ROK

    def on_close(self, session: ServerSession) -> None:
        self._binds.pop(session.id, None)
        for ticket in self._tickets.pop(session.id, []):
            self.gate.close(ticket)

    # --- submits ------------------------------------------------------------------------------

    def on_submit(self, session: ServerSession, pdu: SubmitSm) -> MaybeAsync:
        return self._submit_one(session, pdu)

    def on_data_sm(self, session: ServerSession, pdu: DataSm) -> MaybeAsync:
        return self._submit_one(session, pdu)

    def _submit_one(self, session: ServerSession, pdu: SubmitSm | DataSm) -> MaybeAsync:
        """A whole message joins the loop turn's queue for the gateway (answered through a
        future, smpp_submits.py); a part of a long one is held (a coroutine)."""
        bind = self._binds.get(session.id)
        if bind is None:
            return S.ESME_RINVBNDSTS
        try:
            body = _body_of(pdu)
            lifetime = _lifetime_of(pdu)
        except _BadPdu as bad:
            return bad.status
        wants = bool(pdu.registered_delivery & RD_RECEIPT_MASK)
        if body.ref is None or body.total == 1:
            text = decode_payload(pdu.data_coding, body.payload)
            request = SendRequest(
                sender=pdu.source_addr,
                items=[SendItem(pdu.destination_addr, text)],
                door="smpp",
                lifetime_minutes=_minutes(lifetime),
                receipt_for=(0,) if wants else (),
            )
            ticket = self._open_ticket(session, bind.account.id)
            return self._submits.send(
                bind.account, request, lambda outcome: self._sent(session, ticket, outcome)
            )

        return self._hold_part(session, bind.account, pdu, body, wants, lifetime)

    def _sent(
        self, session: ServerSession, ticket: int, outcome: SendOutcome | Exception
    ) -> HandlerResult:
        if isinstance(outcome, Exception):
            self._close_ticket(session, ticket)
            return self._refusal(outcome)
        return self._single_answer(session, ticket, outcome)

    async def _hold_part(
        self,
        session: ServerSession,
        account: AccountRecord,
        pdu: SubmitSm | DataSm,
        body: _Body,
        wants: bool,
        lifetime: float | None,
    ) -> HandlerResult:
        """One part of a long message: checked as the message will be, stored, answered at
        once with its own id (the message is sent when its last part is in)."""
        assert body.ref is not None
        check = SendRequest(
            sender=pdu.source_addr,
            items=[SendItem(pdu.destination_addr, decode_payload(pdu.data_coding, body.payload))],
            door="smpp",
            lifetime_minutes=_minutes(lifetime),
            pdu_count=body.total,
        )
        try:
            checked = await self.gateway.check(account, check)
        except Exception as exc:
            return self._refusal(exc)
        if checked.rejected:
            return status_for_rejection(checked.rejected[0][1])
        # The message is created once its last part is in, maybe before this answer is
        # written: the ticket keeps its receipts back until then.
        ticket = self._open_ticket(session, account.id)
        try:
            pdu_id = await self.held.hold(
                account,
                source=pdu.source_addr,
                destination=pdu.destination_addr,
                ref=body.ref,
                total=body.total,
                seq=body.seq,
                data_coding=pdu.data_coding,
                payload=body.payload,
                wants_receipt=wants,
                lifetime=lifetime,
            )
        except Exception as exc:
            self._close_ticket(session, ticket)
            return self._refusal(exc)
        return Reply(message_id=str(pdu_id), after_sent=lambda: self._close_ticket(session, ticket))

    def _single_answer(
        self, session: ServerSession, ticket: int, outcome: SendOutcome
    ) -> HandlerResult:
        if not outcome.accepted:
            self._close_ticket(session, ticket)
            return _rejected_status(outcome)
        message_id, _ = outcome.accepted[0]
        return Reply(
            message_id=str(message_id), after_sent=lambda: self._close_ticket(session, ticket)
        )

    async def on_submit_multi(self, session: ServerSession, pdu: SubmitMulti) -> HandlerResult:
        bind = self._binds.get(session.id)
        if bind is None:
            return S.ESME_RINVBNDSTS
        unsuccess: list[UnsuccessSme] = []
        by_phone: dict[str, tuple[int, int]] = {}
        phones: list[str] = []
        for dest in pdu.dest_addresses:
            if dest.dl_name is not None:
                # Distribution lists are an SMSC feature we do not keep.
                unsuccess.append(UnsuccessSme(0, 0, dest.dl_name, int(S.ESME_RINVDLNAME)))
                continue
            by_phone[dest.destination_addr] = (dest.dest_addr_ton, dest.dest_addr_npi)
            phones.append(dest.destination_addr)
        if not phones:
            return S.ESME_RINVNUMDESTS
        payload = pdu.short_message or _octets(pdu.tlvs.get(Tag.MESSAGE_PAYLOAD))
        if pdu.esm_class & ESM_UDHI:
            try:
                udh, payload = parse_udh(payload)
            except UdhError:
                return S.ESME_RINVESMCLASS
            if udh is not None and udh.concat is not None and udh.concat.total > 1:
                # One part of a long message to many: its answer carries one id for every
                # destination, so its parts cannot be held per destination. Refused rather
                # than sent as a message of its own; message_payload carries the whole text.
                return S.ESME_RINVESMCLASS
        if _int(pdu.tlvs.get(Tag.SAR_TOTAL_SEGMENTS)) not in (None, 1):
            return S.ESME_RINVOPTPARAMVAL
        try:
            lifetime = _validity(pdu.validity_period)
        except _BadPdu as bad:
            return bad.status
        text = decode_payload(pdu.data_coding, payload)
        wants = bool(pdu.registered_delivery & RD_RECEIPT_MASK)
        request = SendRequest(
            sender=pdu.source_addr,
            items=[SendItem(phone, text) for phone in phones],
            door="smpp",
            lifetime_minutes=_minutes(lifetime),
            receipt_for=(0,) if wants else (),
        )
        ticket = self._open_ticket(session, bind.account.id)
        try:
            outcome = await self.gateway.send(bind.account, request)
        except Exception as exc:
            self._close_ticket(session, ticket)
            return self._refusal(exc)
        for phone, rejection in outcome.rejected:
            ton, npi = by_phone.get(phone, (0, 0))
            unsuccess.append(UnsuccessSme(ton, npi, phone, status_for_rejection(rejection)))
        if not outcome.accepted:
            self._close_ticket(session, ticket)
            # Every destination failed: an error status, and the list says why for each one.
            return Reply(S.ESME_RSUBMITFAIL, unsuccess_smes=unsuccess)
        return Reply(
            message_id=str(outcome.accepted[0][0]),
            unsuccess_smes=unsuccess,
            after_sent=lambda: self._close_ticket(session, ticket),
        )

    # --- query and cancel ---------------------------------------------------------------------

    async def on_query(self, session: ServerSession, pdu: QuerySm) -> HandlerResult:
        bind = self._binds.get(session.id)
        if bind is None:
            return S.ESME_RINVBNDSTS
        view = await self.gateway.message(bind.account, pdu.message_id)
        if view is None:
            return S.ESME_RQUERYFAIL
        return Reply(
            message_id=pdu.message_id,
            final_date=format_absolute(view.done_at) if view.done_at is not None else "",
            message_state=int(MESSAGE_STATE_OF_STATUS[view.status]),
            error_code=min(max(view.error, 0), 0xFF),
        )

    async def on_cancel(self, session: ServerSession, pdu: CancelSm) -> HandlerResult:
        bind = self._binds.get(session.id)
        if bind is None:
            return S.ESME_RINVBNDSTS
        view = await self.gateway.message(bind.account, pdu.message_id)
        if view is None:
            return S.ESME_RCANCELFAIL
        cancelled = await self.gateway.cancel(bind.account, view.id)
        return S.ESME_ROK if cancelled else S.ESME_RCANCELFAIL

    # --- helpers ------------------------------------------------------------------------------

    def _refusal(self, exc: Exception) -> int:
        status = _status_for_error(exc)
        if status == S.ESME_RSYSERR:
            log.exception("submit failed", exc_info=exc)
        return status

    def _open_ticket(self, session: ServerSession, account_id: int) -> int:
        ticket = self.gate.open(account_id)
        self._tickets.setdefault(session.id, []).append(ticket)
        return ticket

    def _close_ticket(self, session: ServerSession, ticket: int) -> None:
        self.gate.close(ticket)
        tickets = self._tickets.get(session.id)
        if tickets is not None:
            with contextlib.suppress(ValueError):
                tickets.remove(ticket)


def _rejected_status(outcome: SendOutcome) -> int:
    if outcome.rejected:
        return status_for_rejection(outcome.rejected[0][1])
    return S.ESME_RSUBMITFAIL


def _octets(value: object) -> bytes:
    return value if isinstance(value, bytes) else b""


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _body_of(pdu: SubmitSm | DataSm) -> _Body:
    """The text octets and concatenation info of a submit: UDH (8- or 16-bit reference) when
    esm_class has UDHI, else SAR TLVs; text from short_message or message_payload."""
    tlvs = pdu.tlvs
    if isinstance(pdu, SubmitSm) and pdu.short_message:
        payload = pdu.short_message
    else:
        payload = _octets(tlvs.get(Tag.MESSAGE_PAYLOAD))
    if pdu.esm_class & ESM_UDHI:
        try:
            udh, payload = parse_udh(payload)
        except UdhError:
            raise _BadPdu(S.ESME_RINVESMCLASS) from None
        if udh is not None and udh.concat is not None:
            c = udh.concat
            return _Body(payload, c.ref, c.total, c.seq)
        return _Body(payload)
    total = _int(tlvs.get(Tag.SAR_TOTAL_SEGMENTS))
    if total is not None:
        ref = _int(tlvs.get(Tag.SAR_MSG_REF_NUM))
        seq = _int(tlvs.get(Tag.SAR_SEGMENT_SEQNUM))
        if ref is None or seq is None or not 1 <= seq <= total:
            raise _BadPdu(
                S.ESME_RMISSINGOPTPARAM if ref is None or seq is None else S.ESME_RINVOPTPARAMVAL
            )
        return _Body(payload, ref, total, seq)
    return _Body(payload)


def _lifetime_of(pdu: SubmitSm | DataSm) -> float | None:
    """Seconds the message may live: submit_sm's validity_period, data_sm's qos_time_to_live;
    None for the gateway's default."""
    if isinstance(pdu, SubmitSm):
        return _validity(pdu.validity_period)
    ttl = _int(pdu.tlvs.get(Tag.QOS_TIME_TO_LIVE))
    return None if ttl is None else float(ttl)


def _validity(value: str) -> float | None:
    try:
        return lifetime_seconds(value, time.time())
    except BadSmppTime:
        raise _BadPdu(S.ESME_RINVEXPIRY) from None


def _minutes(seconds: float | None) -> float | None:
    # Zero or less stays so: the gateway refuses it as a lifetime already over.
    return None if seconds is None else seconds / 60


class SmppDoor:
    """The door as a service: `await start()` listens on settings.port (and on tls_port with
    tls_cert/tls_key) and runs the receipt pump; `await stop()` unbinds everyone and stops."""

    def __init__(
        self,
        gateway: Gateway,
        settings: SmppDoorSettings,
        *,
        assembly_timeout: float = ASSEMBLY_TIMEOUT,
        pump_policy: PumpPolicy | None = None,
        **server_options: Any,
    ) -> None:
        self.settings = settings
        self.handler = SmppDoorHandler(
            gateway, assembly_timeout=assembly_timeout, pump_policy=pump_policy
        )
        self._options = {"window": DELIVER_WINDOW, **server_options}
        self.server: SmppServer | None = None
        self.tls_server: SmppServer | None = None

    @property
    def port(self) -> int:
        return self.server.port if self.server is not None else self.settings.port

    @property
    def tls_port(self) -> int | None:
        return self.tls_server.port if self.tls_server is not None else None

    async def start(self) -> None:
        s = self.settings
        self.server = SmppServer(self.handler, s.host, s.port, **self._options)
        await self.server.start()
        if s.tls_cert and s.tls_key:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(s.tls_cert, s.tls_key)
            port = s.tls_port if s.tls_port is not None else 0
            self.tls_server = SmppServer(self.handler, s.host, port, tls=context, **self._options)
            await self.tls_server.start()
        await self.handler.receipts.start()
        self.handler.held.start()

    async def stop(self) -> None:
        for server in (self.tls_server, self.server):
            if server is not None:
                await server.stop()
        await self.handler.close_submits()
        await self.handler.held.close()
        await self.handler.receipts.stop()
        self.server = None
        self.tls_server = None

    async def __aenter__(self) -> SmppDoor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
