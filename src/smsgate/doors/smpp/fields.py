"""PDU fields read into the gateway's terms: a submit's text octets and its place in a long
message (UDH or SAR TLVs), and its lifetime (validity_period or qos_time_to_live). A field the
door cannot read raises BadPdu with the command_status to answer."""

from __future__ import annotations

import time

from smsgate.doors.smpp.time_format import BadSmppTime, lifetime_seconds
from smsgate.immutable import record
from smsgate.smpp.constants import ESM_UDHI, CommandStatus, Tag
from smsgate.smpp.pdu import DataSm, SubmitSm
from smsgate.smpp.udh import UdhError, parse_udh

S = CommandStatus


class BadPdu(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


@record
class Body:
    """What one submit_sm/data_sm carries: its text octets and its place in a long message."""

    payload: bytes
    ref: int | None = None  # None: a message on its own
    total: int = 1
    seq: int = 1


def octets(value: object) -> bytes:
    return value if isinstance(value, bytes) else b""


def integer(value: object) -> int | None:
    return value if isinstance(value, int) else None


def body_of(pdu: SubmitSm | DataSm) -> Body:
    """The text octets and concatenation info of a submit: UDH (8- or 16-bit reference) when
    esm_class has UDHI, else SAR TLVs; text from short_message or message_payload."""
    tlvs = pdu.tlvs
    if isinstance(pdu, SubmitSm) and pdu.short_message:
        payload = pdu.short_message
    else:
        payload = octets(tlvs.get(Tag.MESSAGE_PAYLOAD))
    if pdu.esm_class & ESM_UDHI:
        try:
            udh, payload = parse_udh(payload)
        except UdhError:
            raise BadPdu(S.ESME_RINVESMCLASS) from None
        if udh is not None and udh.concat is not None:
            c = udh.concat
            return Body(payload, c.ref, c.total, c.seq)
        return Body(payload)
    total = integer(tlvs.get(Tag.SAR_TOTAL_SEGMENTS))
    if total is not None:
        ref = integer(tlvs.get(Tag.SAR_MSG_REF_NUM))
        seq = integer(tlvs.get(Tag.SAR_SEGMENT_SEQNUM))
        if ref is None or seq is None or not 1 <= seq <= total:
            raise BadPdu(
                S.ESME_RMISSINGOPTPARAM if ref is None or seq is None else S.ESME_RINVOPTPARAMVAL
            )
        return Body(payload, ref, total, seq)
    return Body(payload)


def lifetime_of(pdu: SubmitSm | DataSm) -> float | None:
    """Seconds the message may live: submit_sm's validity_period, data_sm's qos_time_to_live;
    None for the gateway's default."""
    if isinstance(pdu, SubmitSm):
        return validity(pdu.validity_period)
    ttl = integer(pdu.tlvs.get(Tag.QOS_TIME_TO_LIVE))
    return None if ttl is None else float(ttl)


def validity(value: str) -> float | None:
    try:
        return lifetime_seconds(value, time.time())
    except BadSmppTime:
        raise BadPdu(S.ESME_RINVEXPIRY) from None


def minutes(seconds: float | None) -> float | None:
    # Zero or less stays so: the gateway refuses it as a lifetime already over.
    return None if seconds is None else seconds / 60
