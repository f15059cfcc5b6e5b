"""The SMPP transport of inbound SMS (outbox kind "inbound"): each pending MO becomes one
deliver_sm (or, when long, concatenated parts) to one of its account's receiver/transceiver
binds on this node, from the phone to the account's number, as an operator would send it.

It only builds PDUs and reports the customer's answers; which rows to send, retries and
giving up are the outbox pump's, and the MO waits in the outbox while the account has no
receiving bind.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Sequence

from smsgate.domain.segments import split_text
from smsgate.doors.smpp.binds import Binds
from smsgate.gateway.outbox.transport import (
    Delivered,
    OutboxItem,
    Outcome,
    Refused,
    Unanswered,
)
from smsgate.gateway.views import INBOUND
from smsgate.smpp.constants import (
    ESM_UDHI,
    NPI_ISDN,
    TON_INTERNATIONAL,
    TON_UNKNOWN,
    CommandStatus,
)
from smsgate.smpp.pdu import DeliverSm, Pdu
from smsgate.smpp.udh import build_concat_udh


class SmppInbound:
    """The outbox transport for inbound SMS: reaches the accounts bound here to receive."""

    kind = INBOUND

    def __init__(self, binds: Binds) -> None:
        self._binds = binds

    def ready_accounts(self) -> Collection[int]:
        return self._binds.receiving_accounts()

    def sendable(self, account_id: int, items: Sequence[OutboxItem]) -> int:
        return len(items)

    async def deliver(
        self, account_id: int, items: Sequence[OutboxItem]
    ) -> Sequence[Outcome] | None:
        receivers = self._binds.receivers(account_id)
        if not receivers:
            return None
        target = min(receivers, key=lambda s: s.outbound_pending)
        sent: list[list[asyncio.Future[Pdu]]] = []
        for item in items:
            sent.append([target.deliver(pdu) for pdu in mo_pdus(item)])
        outcomes: list[Outcome] = []
        for futures in sent:
            answers = await asyncio.gather(*futures, return_exceptions=True)
            outcomes.append(_outcome(answers))
        return outcomes


def _outcome(answers: Sequence[Pdu | BaseException]) -> Outcome:
    for answer in answers:
        if isinstance(answer, BaseException):
            return Unanswered
        if answer.command_status != CommandStatus.ESME_ROK:
            final = answer.command_status == CommandStatus.ESME_RX_P_APPN
            return Refused(f"0x{answer.command_status:08X}", final=final)
    return Delivered


def mo_pdus(item: OutboxItem) -> list[DeliverSm]:
    """The deliver_sm of one inbound SMS: from the phone to the account's number; a text
    longer than one SMS as parts with an 8-bit UDH reference taken from the row's id."""
    mo = json.loads(item.payload or "{}")
    seg = split_text(str(mo["text"]) or " ")
    total = len(seg.parts)
    destination = str(mo["to"])
    pdus = []
    for seq, payload in enumerate(seg.parts, start=1):
        body = payload if total == 1 else build_concat_udh(item.id & 0xFF, total, seq) + payload
        pdus.append(
            DeliverSm(
                source_addr_ton=TON_INTERNATIONAL,
                source_addr_npi=NPI_ISDN,
                source_addr=str(mo["from"]),
                dest_addr_ton=TON_UNKNOWN if len(destination) <= 6 else TON_INTERNATIONAL,
                dest_addr_npi=NPI_ISDN,
                destination_addr=destination,
                esm_class=ESM_UDHI if total > 1 else 0,
                data_coding=seg.data_coding,
                short_message=body,
            )
        )
    return pdus
