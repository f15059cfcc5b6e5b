"""TLVs: typed values per tag, vendor tags passed through unchanged, strict bounds."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgate.smpp.constants import CommandStatus, Tag
from smsgate.smpp.tlv import NetworkErrorCode, PduError, _encode_value, decode_tlvs, encode_tlvs


def tlv(tag: int, value: bytes) -> bytes:
    return struct.pack("!HH", tag, len(value)) + value


def test_known_tags_decode_to_their_types() -> None:
    wire = (
        tlv(0x001E, b"abc123\0")
        + tlv(0x0427, b"\x02")
        + tlv(0x020C, b"\x12\x34")
        + tlv(0x0423, b"\x01\x00\x0b")
        + tlv(0x0424, b"payload")
        + tlv(0x0017, b"\x00\x00\x01\x00")
    )
    assert decode_tlvs(wire, 0, len(wire)) == {
        Tag.RECEIPTED_MESSAGE_ID: "abc123",
        Tag.MESSAGE_STATE: 2,
        Tag.SAR_MSG_REF_NUM: 0x1234,
        Tag.NETWORK_ERROR_CODE: NetworkErrorCode(network_type=1, error_code=11),
        Tag.MESSAGE_PAYLOAD: b"payload",
        Tag.QOS_TIME_TO_LIVE: 256,
    }


def test_encoding_keeps_insertion_order() -> None:
    tlvs = {Tag.MESSAGE_STATE: 2, Tag.RECEIPTED_MESSAGE_ID: "x"}
    assert encode_tlvs(tlvs) == tlv(0x0427, b"\x02") + tlv(0x001E, b"x\0")
    assert list(decode_tlvs(encode_tlvs(tlvs), 0, 11)) == [0x0427, 0x001E]


def test_vendor_and_unknown_tags_pass_through_unchanged() -> None:
    wire = tlv(0x1400, b"\x00\xff vendor") + tlv(0x3FFF, b"") + tlv(0x7777, b"odd")
    decoded = decode_tlvs(wire, 0, len(wire))
    assert decoded == {0x1400: b"\x00\xff vendor", 0x3FFF: b"", 0x7777: b"odd"}
    assert encode_tlvs(decoded) == wire


def test_decoding_respects_the_given_range() -> None:
    wire = b"junk" + tlv(0x0427, b"\x05") + b"more"
    assert decode_tlvs(wire, 4, 9) == {Tag.MESSAGE_STATE: 5}
    assert decode_tlvs(memoryview(wire), 4, 9) == {Tag.MESSAGE_STATE: 5}


def status_of(wire: bytes) -> int:
    with pytest.raises(PduError) as caught:
        decode_tlvs(wire, 0, len(wire))
    return caught.value.command_status


def test_a_tlv_running_past_the_pdu_is_an_invalid_stream() -> None:
    assert (
        status_of(struct.pack("!HH", 0x0424, 10) + b"short") == CommandStatus.ESME_RINVOPTPARSTREAM
    )
    assert status_of(b"\x04\x27\x00") == CommandStatus.ESME_RINVOPTPARSTREAM


def test_a_fixed_size_tlv_with_the_wrong_length_is_invalid_parameter_length() -> None:
    assert status_of(tlv(0x0427, b"\x02\x00")) == CommandStatus.ESME_RINVPARLEN
    assert status_of(tlv(0x020C, b"\x01")) == CommandStatus.ESME_RINVPARLEN
    assert status_of(tlv(0x0423, b"\x01\x00")) == CommandStatus.ESME_RINVPARLEN
    assert status_of(tlv(0x001E, b"x" * 65 + b"\0")) == CommandStatus.ESME_RINVPARLEN


def test_a_c_string_tlv_without_its_nul_is_an_invalid_value() -> None:
    assert status_of(tlv(0x001E, b"abc")) == CommandStatus.ESME_RINVOPTPARAMVAL
    assert status_of(tlv(0x001E, b"a\0c\0")) == CommandStatus.ESME_RINVOPTPARAMVAL


@pytest.mark.parametrize(
    "tlvs",
    [
        {Tag.MESSAGE_STATE: 256},
        {Tag.SAR_MSG_REF_NUM: -1},
        {Tag.RECEIPTED_MESSAGE_ID: 5},
        {Tag.RECEIPTED_MESSAGE_ID: "x" * 65},
        {Tag.RECEIPTED_MESSAGE_ID: "Ж"},
        {Tag.NETWORK_ERROR_CODE: NetworkErrorCode(1, 70000)},
        {Tag.CALLBACK_NUM: b"12"},
        {0x1400: "vendor values are bytes"},
        {0x10000: b""},
        {Tag.MESSAGE_PAYLOAD: b"x" * 65536},
    ],
)
def test_values_that_do_not_fit_their_tag_are_refused_on_encode(tlvs: dict[int, object]) -> None:
    with pytest.raises(PduError):
        encode_tlvs(tlvs)  # type: ignore[arg-type]


def test_raw_bytes_are_accepted_for_a_known_tag_of_the_right_size() -> None:
    assert encode_tlvs({Tag.MESSAGE_STATE: b"\x02"}) == tlv(0x0427, b"\x02")


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=120))
def test_random_bytes_raise_only_pdu_error(wire: bytes) -> None:
    try:
        decoded = decode_tlvs(wire, 0, len(wire))
    except PduError:
        return
    assert decode_tlvs(encode_tlvs(decoded), 0, len(encode_tlvs(decoded))) == decoded


def _general(tag: int, value: object) -> object:
    """What the per-value encoder makes of one TLV (the path every fast path must agree with)."""
    try:
        raw = _encode_value(tag, value)  # type: ignore[arg-type]
    except PduError as exc:
        return PduError, exc.command_status
    return tlv(tag, raw)


def _encoded(tag: int, value: object) -> object:
    try:
        return encode_tlvs({tag: value})  # type: ignore[dict-item]
    except PduError as exc:
        return PduError, exc.command_status


@given(
    st.sampled_from(sorted(Tag)),
    st.one_of(
        st.integers(-2, 0x1_0000_0001),
        st.sampled_from([0, 1, 0xFF, 0x100, 0xFFFF, 0x10000, 0xFFFFFFFF, True]),
        st.text(max_size=70),
        st.text("abc\0", max_size=5),
    ),
)
def test_integer_and_string_tlvs_encode_as_the_general_path_does(tag: Tag, value: object) -> None:
    assert _encoded(tag, value) == _general(tag, value)
