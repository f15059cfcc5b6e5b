"""The SMPP door's handler: customers bind with their login and SMPP password and submit,
query and cancel messages; receipts and inbound SMS go to their receiver/transceiver binds
through the outbox (receipts.py and inbound.py are its transports).

Translation only: every decision (sender names, numbers, money, duplicates, rate limits) is the
gateway's; this module maps SMPP fields to a SendRequest and the gateway's answers to
command_status values. It keeps no messages: the parts of a long message wait in the store
(gateway/held_messages.py), each answered as soon as it is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from smsgate.domain.segments import decode_payload
from smsgate.doors.smpp import bind_log
from smsgate.doors.smpp.binds import Binds
from smsgate.doors.smpp.fields import (
    BadPdu,
    Body,
    body_of,
    integer,
    lifetime_of,
    minutes,
    octets,
    validity,
)
from smsgate.doors.smpp.inbound import SmppInbound
from smsgate.doors.smpp.receipts import MESSAGE_STATE_OF_STATUS, RECEIPT_CHUNK, SmppReceipts
from smsgate.doors.smpp.response_gate import ResponseGate
from smsgate.doors.smpp.statuses import (
    held_error,
    rejected_status,
    status_for_error,
    status_for_rejection,
)
from smsgate.doors.smpp.submits import SubmitQueue
from smsgate.doors.smpp.time_format import format_absolute
from smsgate.gateway.errors import InvalidRequest, RateLimited, Unauthorized
from smsgate.gateway.facade import Gateway
from smsgate.gateway.held_messages import ASSEMBLY_TIMEOUT
from smsgate.gateway.outbox.pump import PumpPolicy
from smsgate.gateway.send_request import SendItem, SendOutcome, SendRequest
from smsgate.gateway.views import AccountRecord
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
    ReplaceSm,
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
)
from smsgate.smpp.udh import UdhError, parse_udh

__all__ = ["SmppDoorHandler"]

S = CommandStatus
log = logging.getLogger(__name__)


class SmppDoorHandler(SmppHandler):
    """The door's behaviour over `smpp.server.SmppServer`."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        assembly_timeout: float = ASSEMBLY_TIMEOUT,
        pump_policy: PumpPolicy | None = None,
        receipt_chunk: int = RECEIPT_CHUNK,
    ) -> None:
        self.gateway = gateway
        self.gate = ResponseGate()
        self.binds = Binds()
        # The outbox pump hands this node's receipts to the binds here (leased across nodes
        # when the gateway's outbox is).
        self.receipts = gateway.outbox.pump(
            SmppReceipts(self.binds, self.gate, chunk=receipt_chunk), pump_policy
        )
        # Inbound SMS (MO) for the accounts bound here to receive, the same way (inbound.py).
        self.inbound = gateway.outbox.pump(SmppInbound(self.binds), pump_policy)
        self.held = gateway.held_messages(
            held_error,
            refused=self.receipts.wake,
            timeout=assembly_timeout,
        )
        self._tickets: dict[int, list[int]] = {}  # session id -> open gate tickets
        self._unbinding: set[int] = set()  # session ids whose customer sent unbind
        self._submits: SubmitQueue[HandlerResult] = SubmitQueue(gateway)

    async def close_submits(self) -> None:
        """Let the submits handed to the gateway finish (their answers are written or, with
        the bind gone, dropped; what was accepted is stored either way)."""
        await self._submits.close()

    # --- binds --------------------------------------------------------------------------------

    async def on_bind(self, session: ServerSession, pdu: Pdu) -> int:
        if not isinstance(pdu, BindTransmitter | BindReceiver | BindTransceiver):
            return S.ESME_RBINDFAIL
        try:
            account = await self.gateway.authenticate_smpp(
                pdu.system_id, pdu.password, session.peer_address
            )
        except Unauthorized:
            # Unknown login and wrong password answer alike: no probing for logins.
            return bind_log.refused(session, pdu, S.ESME_RINVPASWD, "unknown login or password")
        if self.binds.get(session) is not None:
            return bind_log.refused(session, pdu, S.ESME_RALYBND, "already bound")
        if self.binds.count(account.id) >= account.max_binds:
            reason = f"max_binds ({account.max_binds}) reached"
            return bind_log.refused(session, pdu, S.ESME_RBINDFAIL, reason)
        self.binds.add(account, session)
        bind_log.bound(session, pdu)
        if not isinstance(pdu, BindTransmitter):
            # Runs after this bind_resp is written, when the session can take deliver_sm.
            loop = asyncio.get_running_loop()
            loop.call_soon(self.receipts.wake, account.id)
            loop.call_soon(self.inbound.wake, account.id)
        return S.ESME_ROK

    def on_unbind(self, session: ServerSession) -> None:
        self._unbinding.add(session.id)

    def on_close(self, session: ServerSession) -> None:
        bind = self.binds.get(session)
        asked = session.id in self._unbinding
        self._unbinding.discard(session.id)
        if bind is not None:
            bind_log.unbound(session, bind.account.login, "unbind" if asked else "closed")
        self.binds.drop(session)
        for ticket in self._tickets.pop(session.id, []):
            self.gate.close(ticket)

    # --- submits ------------------------------------------------------------------------------

    def on_submit(self, session: ServerSession, pdu: SubmitSm) -> MaybeAsync:
        return self._submit_one(session, pdu)

    def on_data_sm(self, session: ServerSession, pdu: DataSm) -> MaybeAsync:
        return self._submit_one(session, pdu)

    def _submit_one(self, session: ServerSession, pdu: SubmitSm | DataSm) -> MaybeAsync:
        """A whole message joins the loop turn's queue for the gateway (answered through a
        future, submits.py); a part of a long one is held (a coroutine)."""
        bind = self.binds.get(session)
        if bind is None:
            return S.ESME_RINVBNDSTS
        try:
            body = body_of(pdu)
            lifetime = lifetime_of(pdu)
        except BadPdu as bad:
            return self._refused(bind.account, bad.status)
        wants = bool(pdu.registered_delivery & RD_RECEIPT_MASK)
        if body.ref is None or body.total == 1:
            text = decode_payload(pdu.data_coding, body.payload)
            request = SendRequest(
                sender=pdu.source_addr,
                items=[SendItem(pdu.destination_addr, text)],
                door="smpp",
                lifetime_minutes=minutes(lifetime),
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
        body: Body,
        wants: bool,
        lifetime: float | None,
    ) -> HandlerResult:
        """One part of a long message: checked as the message will be, stored, answered at
        once with its own id (the message is sent when its last part is in). A kept part
        spends its rate-limit token in the store with it; one refused on the check, here."""
        assert body.ref is not None
        check = SendRequest(
            sender=pdu.source_addr,
            items=[SendItem(pdu.destination_addr, decode_payload(pdu.data_coding, body.payload))],
            door="smpp",
            lifetime_minutes=minutes(lifetime),
            pdu_count=body.total,
        )
        try:
            checked = await self.gateway.dry_run(account, check)
        except InvalidRequest as exc:
            return await self._refused(account, self._refusal(exc))
        except Exception as exc:
            return self._refusal(exc)
        if checked.rejected:
            return await self._refused(account, status_for_rejection(checked.rejected[0][1]))
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
            return rejected_status(outcome)
        message_id, _ = outcome.accepted[0]
        return Reply(
            message_id=str(message_id), after_sent=lambda: self._close_ticket(session, ticket)
        )

    async def on_submit_multi(self, session: ServerSession, pdu: SubmitMulti) -> HandlerResult:
        bind = self.binds.get(session)
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
            return await self._refused(bind.account, S.ESME_RINVNUMDESTS)
        payload = pdu.short_message or octets(pdu.tlvs.get(Tag.MESSAGE_PAYLOAD))
        if pdu.esm_class & ESM_UDHI:
            try:
                udh, payload = parse_udh(payload)
            except UdhError:
                return await self._refused(bind.account, S.ESME_RINVESMCLASS)
            if udh is not None and udh.concat is not None and udh.concat.total > 1:
                # One part of a long message to many: its answer carries one id for every
                # destination, so its parts cannot be held per destination. Refused rather
                # than sent as a message of its own; message_payload carries the whole text.
                return await self._refused(bind.account, S.ESME_RINVESMCLASS)
        if integer(pdu.tlvs.get(Tag.SAR_TOTAL_SEGMENTS)) not in (None, 1):
            return await self._refused(bind.account, S.ESME_RINVOPTPARAMVAL)
        try:
            lifetime = validity(pdu.validity_period)
        except BadPdu as bad:
            return await self._refused(bind.account, bad.status)
        text = decode_payload(pdu.data_coding, payload)
        wants = bool(pdu.registered_delivery & RD_RECEIPT_MASK)
        request = SendRequest(
            sender=pdu.source_addr,
            items=[SendItem(phone, text) for phone in phones],
            door="smpp",
            lifetime_minutes=minutes(lifetime),
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
        bind = self.binds.get(session)
        if bind is None:
            return S.ESME_RINVBNDSTS
        try:
            view = await self.gateway.message(bind.account, pdu.message_id)
        except RateLimited:
            return S.ESME_RTHROTTLED
        if view is None:
            return S.ESME_RQUERYFAIL
        return Reply(
            message_id=pdu.message_id,
            final_date=format_absolute(view.done_at) if view.done_at is not None else "",
            message_state=int(MESSAGE_STATE_OF_STATUS[view.status]),
            error_code=min(max(view.error, 0), 0xFF),
        )

    async def on_cancel(self, session: ServerSession, pdu: CancelSm) -> HandlerResult:
        bind = self.binds.get(session)
        if bind is None:
            return S.ESME_RINVBNDSTS
        try:
            view = await self.gateway.message(bind.account, pdu.message_id)
        except RateLimited:
            return S.ESME_RTHROTTLED
        if view is None:
            return S.ESME_RCANCELFAIL
        cancelled = await self.gateway.cancel(bind.account, view.id)
        return S.ESME_ROK if cancelled else S.ESME_RCANCELFAIL

    def on_replace(self, session: ServerSession, pdu: ReplaceSm) -> MaybeAsync:
        # Messages are not replaced here (the gateway has no such rule): refused, but as a
        # request of the account all the same.
        bind = self.binds.get(session)
        if bind is None:
            return S.ESME_RINVBNDSTS
        return self._refused(bind.account, S.ESME_RREPLACEFAIL)

    def on_unreadable(self, session: ServerSession, pdu: Pdu, status: int) -> MaybeAsync:
        # A field the codec could not read (sm_length past 254, an address too long): the
        # codec's status, but a request of the account like any other.
        bind = self.binds.get(session)
        if bind is None:
            return status
        return self._refused(bind.account, status)

    # --- helpers ------------------------------------------------------------------------------

    async def _refused(self, account: AccountRecord, status: int) -> int:
        """`status` for a request of a bound account the door refuses before the gateway spent
        its token (a field it or the codec cannot read, a part refused on its check,
        replace_sm): the token is spent now, because the rate limit counts every request, a
        bad one too, and a customer over its rate hears ESME_RTHROTTLED instead, as a
        throttled submit does."""
        try:
            await self.gateway.refused(account)
        except RateLimited as limited:
            return status_for_error(limited)
        return status

    def _refusal(self, exc: Exception) -> int:
        status = status_for_error(exc)
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
