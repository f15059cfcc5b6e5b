"""How one stored SMS part becomes an operator submit_sm, and how the operator's answers
(submit_sm_resp and delivery receipts) translate back into part states.

Pure translation between the store's records and SMPP PDUs; the connector does the I/O.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Literal

from smsgate.domain.status import PartState
from smsgate.immutable import record
from smsgate.smpp.constants import (
    ESM_DELIVERY_RECEIPT,
    ESM_TYPE_MASK,
    ESM_UDHI,
    CommandStatus,
    MessageState,
    Tag,
)
from smsgate.smpp.pdu import DataSm, DeliverSm, Pdu, QuerySm, QuerySmResp, SubmitSm
from smsgate.smpp.receipt import ReceiptError, message_state_for_stat, parse_receipt
from smsgate.smpp.udh import build_concat_udh
from smsgate.store.records import ClaimedPart

Concat = Literal["udh", "sar"]

# Temporary: the operator may take the part later (Kannel treats 0x58 and 0x14 alike).
TEMPORARY_ERRORS = frozenset(
    {
        CommandStatus.ESME_RTHROTTLED,
        CommandStatus.ESME_RMSGQFUL,
        CommandStatus.ESME_RSYSERR,
        CommandStatus.ESME_RX_T_APPN,
        CommandStatus.ESME_RINVBNDSTS,
    }
)
# Permanent errors about the destination end the part UNDELIV; every other permanent one REJECTD.
_UNDELIVERABLE_ERRORS = frozenset({CommandStatus.ESME_RINVDSTADR, CommandStatus.ESME_RX_P_APPN})

_STATE_FOR_MESSAGE_STATE = {
    MessageState.ENROUTE: PartState.SUBMITTED,
    MessageState.DELIVERED: PartState.DELIVRD,
    MessageState.EXPIRED: PartState.EXPIRED,
    MessageState.DELETED: PartState.UNDELIV,
    MessageState.UNDELIVERABLE: PartState.UNDELIV,
    # ACCEPTD: the operator accepted on the subscriber's behalf; Kannel counts it delivered.
    MessageState.ACCEPTED: PartState.DELIVRD,
    MessageState.UNKNOWN: PartState.UNDELIV,
    MessageState.REJECTED: PartState.REJECTD,
}


def _source_ton_npi(sender: str) -> tuple[int, int]:
    return (1, 1) if sender.isdigit() else (5, 0)


def submit_sm_for(part: ClaimedPart, concat: Concat) -> SubmitSm:
    source_ton, source_npi = _source_ton_npi(part.sender)
    short_message = part.payload
    esm_class = 0
    tlvs: dict[int, int | str | bytes] = {}
    if part.total > 1:
        if concat == "udh":
            short_message = build_concat_udh(part.concat_ref & 0xFF, part.total, part.seq)
            short_message += part.payload
            esm_class |= ESM_UDHI
        else:
            tlvs[Tag.SAR_MSG_REF_NUM] = part.concat_ref & 0xFFFF
            tlvs[Tag.SAR_TOTAL_SEGMENTS] = part.total
            tlvs[Tag.SAR_SEGMENT_SEQNUM] = part.seq
    return SubmitSm(
        source_addr_ton=source_ton,
        source_addr_npi=source_npi,
        source_addr=part.sender,
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr=part.phone,
        esm_class=esm_class,
        registered_delivery=1 if part.want_receipt else 0,
        validity_period=smpp_absolute_time(part.expires_at),
        data_coding=part.data_coding,
        short_message=short_message,
        tlvs=dict(tlvs),
    )


def smpp_absolute_time(epoch: float) -> str:
    """SMPP §7.1.1 absolute time in UTC: YYMMDDhhmmss, tenths, quarter-hour offset 00, '+'."""
    return _absolute_second(int(epoch))


@functools.lru_cache(maxsize=1024)
def _absolute_second(second: int) -> str:
    # Whole seconds only (tenths are written as 0), and the parts of one request share their
    # message's expiry: strftime per part was ~4 % of the dispatcher's CPU.
    moment = datetime.fromtimestamp(second, tz=UTC)
    return moment.strftime("%y%m%d%H%M%S") + "000+"


@record
class SubmitAnswer:
    # unsent: never written to the operator (its bind went down first); any connector may take it.
    kind: Literal["accepted", "temporary", "permanent", "unsent"]
    operator_id: str = ""
    state: PartState = PartState.REJECTD
    error: int = 0


def classify_submit_response(command_status: int, message_id: str) -> SubmitAnswer:
    if command_status == CommandStatus.ESME_ROK:
        if message_id:
            return SubmitAnswer("accepted", operator_id=message_id)
        # An OK without an id cannot be matched to a receipt: treat as a fault of the operator.
        return SubmitAnswer("temporary", error=CommandStatus.ESME_RSYSERR)
    if command_status in TEMPORARY_ERRORS:
        return SubmitAnswer("temporary", error=command_status)
    state = PartState.UNDELIV if command_status in _UNDELIVERABLE_ERRORS else PartState.REJECTD
    return SubmitAnswer("permanent", state=state, error=command_status)


@record
class ParsedReceipt:
    operator_id: str
    state: PartState
    error: int


def receipt_from_pdu(pdu: DeliverSm | DataSm) -> ParsedReceipt | None:
    """The receipt a deliver_sm/data_sm carries, or None when it is not a receipt.

    The TLVs win when present (receipted_message_id, message_state, network_error_code);
    the receipt text fills in whatever they lack."""
    if pdu.esm_class & ESM_TYPE_MASK != ESM_DELIVERY_RECEIPT:
        return None
    tlv_id = pdu.tlvs.get(Tag.RECEIPTED_MESSAGE_ID)
    tlv_state = pdu.tlvs.get(Tag.MESSAGE_STATE)
    tlv_error = pdu.tlvs.get(Tag.NETWORK_ERROR_CODE)
    text_id = ""
    text_state: MessageState | None = None
    text_error = 0
    body = pdu.tlvs.get(Tag.MESSAGE_PAYLOAD) if isinstance(pdu, DataSm) else pdu.short_message
    if isinstance(body, bytes) and body:
        try:
            receipt = parse_receipt(body)
        except ReceiptError:
            receipt = None
        if receipt is not None:
            text_id = receipt.id
            text_state = message_state_for_stat(receipt.stat)
            text_error = receipt.err
    operator_id = tlv_id if isinstance(tlv_id, str) and tlv_id else text_id
    state_value: MessageState | None = text_state
    if isinstance(tlv_state, int) and tlv_state in MessageState._value2member_map_:
        state_value = MessageState(tlv_state)
    if not operator_id or state_value is None:
        return None
    error = text_error
    if tlv_error is not None and hasattr(tlv_error, "error_code"):
        error = int(tlv_error.error_code)
    return ParsedReceipt(operator_id, _STATE_FOR_MESSAGE_STATE[state_value], error)


def query_sm_for(operator_id: str, sender: str) -> QuerySm:
    """The query_sm asking about a submitted part: its operator id and the source it was sent
    from, as §4.8 requires both."""
    ton, npi = _source_ton_npi(sender)
    return QuerySm(
        message_id=operator_id, source_addr_ton=ton, source_addr_npi=npi, source_addr=sender
    )


# What a query_sm_resp may end a part with. ENROUTE and UNKNOWN are left out on purpose:
# UNKNOWN answering a question means the operator does not know, not that the part failed.
_FINAL_BY_QUERY: dict[MessageState, PartState] = {
    state: part_state
    for state, part_state in _STATE_FOR_MESSAGE_STATE.items()
    if part_state is not PartState.SUBMITTED and state is not MessageState.UNKNOWN
}


def receipt_from_query(operator_id: str, response: Pdu) -> ParsedReceipt | None:
    """The final state a query_sm_resp reports for `operator_id`, or None when it reports
    none (still on its way, unknown, or the query refused)."""
    if response.command_status != CommandStatus.ESME_ROK or not isinstance(response, QuerySmResp):
        return None
    if response.message_state not in MessageState._value2member_map_:
        return None
    state = _FINAL_BY_QUERY.get(MessageState(response.message_state))
    if state is None:
        return None
    return ParsedReceipt(operator_id, state, response.error_code)
