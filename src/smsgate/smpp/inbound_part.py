"""A mobile-originated SMS as one deliver_sm or data_sm carries it: addresses, data_coding, the
text octets with any UDH removed, and its place in a concatenated message (UDH with an 8- or
16-bit reference, or the SAR TLVs).

Pure and strict like udh.py: a malformed header raises PduError, so the connector can refuse
the PDU. It does not decode text or join parts: that is the reassembly's job, on the joined
octets, so a character split across two parts survives.
"""

from __future__ import annotations

from collections.abc import Mapping

from smsgate.immutable import record
from smsgate.smpp.constants import ESM_TYPE_MASK, ESM_UDHI, CommandStatus, Tag
from smsgate.smpp.pdu import DataSm, DeliverSm
from smsgate.smpp.pdu_error import PduError
from smsgate.smpp.udh import Concat, parse_udh


@record
class InboundPart:
    source: str  # the phone that sent it
    source_ton: int
    destination: str  # our long number or short code
    data_coding: int
    payload: bytes  # text octets, UDH removed
    concat: Concat | None = None  # None for a message in one part


def inbound_part(pdu: DeliverSm | DataSm) -> InboundPart | None:
    """The MO part `pdu` carries, or None when it is not an MO message (a delivery receipt,
    an SME acknowledgement or an intermediate notification: esm_class message type != 0)."""
    if pdu.esm_class & ESM_TYPE_MASK:
        return None
    tlvs = pdu.tlvs
    if isinstance(pdu, DeliverSm) and pdu.short_message:
        payload = pdu.short_message
    else:
        raw = tlvs.get(Tag.MESSAGE_PAYLOAD)
        payload = raw if isinstance(raw, bytes) else b""
    concat: Concat | None = None
    if pdu.esm_class & ESM_UDHI:
        udh, payload = parse_udh(payload)
        if udh is not None:
            concat = udh.concat
    else:
        concat = _sar_of(tlvs)
    if concat is not None and concat.total == 1:
        concat = None  # "part 1 of 1" is a whole message
    return InboundPart(
        pdu.source_addr,
        pdu.source_addr_ton,
        pdu.destination_addr,
        pdu.data_coding,
        payload,
        concat,
    )


def _sar_of(tlvs: Mapping[int, object]) -> Concat | None:
    total, ref, seq = (
        tlvs.get(Tag.SAR_TOTAL_SEGMENTS),
        tlvs.get(Tag.SAR_MSG_REF_NUM),
        tlvs.get(Tag.SAR_SEGMENT_SEQNUM),
    )
    if total is None and ref is None and seq is None:
        return None
    if not (isinstance(total, int) and isinstance(ref, int) and isinstance(seq, int)):
        raise PduError(
            CommandStatus.ESME_RMISSINGOPTPARAM,
            "sar_msg_ref_num, sar_total_segments and sar_segment_seqnum come together",
        )
    if total == 0 or not 1 <= seq <= total:
        raise PduError(CommandStatus.ESME_RINVOPTPARAMVAL, f"SAR segment {seq} of {total}")
    # The SAR reference is 16 bits wide: it shares the 16-bit UDH reference space.
    return Concat(ref, total, seq, sixteen_bit=True)
