"""MO parts out of deliver_sm and data_sm: UDH 8/16-bit, SAR TLVs, message_payload, receipts
left alone, malformed headers refused."""

from __future__ import annotations

import pytest

from smsgate.smpp.constants import (
    ESM_DELIVERY_ACK,
    ESM_DELIVERY_RECEIPT,
    ESM_INTERMEDIATE_NOTIFICATION,
    ESM_UDHI,
    CommandStatus,
    Tag,
)
from smsgate.smpp.inbound_part import InboundPart, inbound_part
from smsgate.smpp.pdu import DataSm, DeliverSm, PduError
from smsgate.smpp.udh import Concat, build_concat_udh


def deliver(short_message: bytes, esm_class: int = 0, **tlvs: object) -> DeliverSm:
    return DeliverSm(
        source_addr="380501234567",
        source_addr_ton=1,
        destination_addr="7510",
        esm_class=esm_class,
        data_coding=8,
        short_message=short_message,
        tlvs={getattr(Tag, k.upper()): v for k, v in tlvs.items()},  # type: ignore[misc]
    )


def test_a_plain_deliver_sm_is_one_whole_part() -> None:
    assert inbound_part(deliver(b"\x00h\x00i")) == InboundPart(
        "380501234567", 1, "7510", 8, b"\x00h\x00i", None
    )


def test_udh_with_an_8_bit_reference() -> None:
    pdu = deliver(build_concat_udh(0x42, 3, 2) + b"\x00x", ESM_UDHI)
    part = inbound_part(pdu)
    assert part is not None
    assert part.payload == b"\x00x" and part.concat == Concat(0x42, 3, 2, False)


def test_udh_with_a_16_bit_reference() -> None:
    pdu = deliver(build_concat_udh(0x1234, 2, 1, sixteen_bit=True) + b"\x00x", ESM_UDHI)
    part = inbound_part(pdu)
    assert part is not None and part.concat == Concat(0x1234, 2, 1, True)


def test_udh_without_concatenation_is_stripped_and_whole() -> None:
    port_ie = bytes((4, 0x05, 2, 0x0B, 0x84))  # an application port element only
    part = inbound_part(deliver(port_ie + b"\x00x", ESM_UDHI))
    assert part is not None and part.payload == b"\x00x" and part.concat is None


def test_sar_tlvs() -> None:
    pdu = deliver(b"\x00x", sar_msg_ref_num=700, sar_total_segments=4, sar_segment_seqnum=4)
    part = inbound_part(pdu)
    assert part is not None and part.concat == Concat(700, 4, 4, True)


def test_part_one_of_one_is_a_whole_message() -> None:
    part = inbound_part(deliver(build_concat_udh(9, 1, 1) + b"\x00x", ESM_UDHI))
    assert part is not None and part.concat is None


def test_data_sm_text_comes_from_message_payload() -> None:
    pdu = DataSm(
        source_addr="380501234567",
        destination_addr="7510",
        data_coding=0,
        tlvs={Tag.MESSAGE_PAYLOAD: b"STOP"},
    )
    part = inbound_part(pdu)
    assert part is not None and part.payload == b"STOP" and part.data_coding == 0


def test_deliver_sm_with_message_payload_instead_of_short_message() -> None:
    part = inbound_part(deliver(b"", message_payload=b"\x00l\x00o\x00n\x00g"))
    assert part is not None and part.payload == b"\x00l\x00o\x00n\x00g"


@pytest.mark.parametrize(
    "esm_class", [ESM_DELIVERY_RECEIPT, ESM_DELIVERY_ACK, ESM_INTERMEDIATE_NOTIFICATION]
)
def test_receipts_and_acknowledgements_are_not_mo(esm_class: int) -> None:
    assert inbound_part(deliver(b"id:1 stat:DELIVRD", esm_class)) is None


def test_a_udh_that_runs_past_the_message_is_refused() -> None:
    with pytest.raises(PduError) as caught:
        inbound_part(deliver(bytes((9, 0, 3, 1)), ESM_UDHI))
    assert caught.value.command_status == CommandStatus.ESME_RINVESMCLASS


def test_incomplete_sar_tlvs_are_refused() -> None:
    with pytest.raises(PduError) as caught:
        inbound_part(deliver(b"x", sar_msg_ref_num=1, sar_total_segments=2))
    assert caught.value.command_status == CommandStatus.ESME_RMISSINGOPTPARAM


def test_an_impossible_sar_position_is_refused() -> None:
    with pytest.raises(PduError) as caught:
        inbound_part(deliver(b"x", sar_msg_ref_num=1, sar_total_segments=2, sar_segment_seqnum=3))
    assert caught.value.command_status == CommandStatus.ESME_RINVOPTPARAMVAL
