"""UDH: concatenation headers built exactly, any header parsed into its elements, malformed
ones refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.pdu_error import PduError
from smsgate.smpp.udh import (
    Concat,
    InformationElement,
    Udh,
    UdhError,
    build_concat_udh,
    parse_udh,
)


def test_eight_bit_concat_header_is_exact() -> None:
    assert build_concat_udh(0xAB, 3, 2) == bytes.fromhex("050003ab0302")


def test_sixteen_bit_concat_header_is_exact() -> None:
    assert build_concat_udh(0x1234, 3, 1, sixteen_bit=True) == bytes.fromhex("06080412340301")


@given(st.integers(0, 255), st.integers(1, 255), st.data(), st.binary(max_size=130))
def test_eight_bit_concat_round_trips(
    ref: int, total: int, data: st.DataObject, body: bytes
) -> None:
    seq = data.draw(st.integers(1, total))
    udh, rest = parse_udh(build_concat_udh(ref, total, seq) + body)
    assert udh is not None and udh.concat == Concat(ref, total, seq, sixteen_bit=False)
    assert rest == body


@given(st.integers(0, 0xFFFF), st.integers(1, 255), st.data(), st.binary(max_size=130))
def test_sixteen_bit_concat_round_trips(
    ref: int, total: int, data: st.DataObject, body: bytes
) -> None:
    seq = data.draw(st.integers(1, total))
    udh, rest = parse_udh(build_concat_udh(ref, total, seq, sixteen_bit=True) + body)
    assert udh is not None and udh.concat == Concat(ref, total, seq, sixteen_bit=True)
    assert rest == body


def test_other_information_elements_are_kept_in_order() -> None:
    # Application port addressing (IEI 0x05) followed by an 8-bit concatenation element.
    message = bytes.fromhex("0b05040b8423f00003aa0201") + b"wap"
    udh, rest = parse_udh(message)
    assert udh == Udh(
        elements=(
            InformationElement(0x05, bytes.fromhex("0b8423f0")),
            InformationElement(0x00, bytes.fromhex("aa0201")),
        ),
        concat=Concat(0xAA, 2, 1),
    )
    assert rest == b"wap"
    assert udh.to_bytes() + rest == message


def test_a_udh_without_concatenation_has_no_concat_info() -> None:
    udh, rest = parse_udh(bytes.fromhex("03240101") + b"text")
    assert udh is not None and udh.concat is None
    assert udh.elements == (InformationElement(0x24, b"\x01"),)
    assert rest == b"text"


def test_an_empty_short_message_has_no_udh() -> None:
    assert parse_udh(b"") == (None, b"")


@pytest.mark.parametrize(
    "message",
    [
        "05000301",  # header longer than the message
        "0100",  # element header cut short
        "0300050a",  # element data past the header
        "050003010300",  # seq 0
        "050003010203",  # seq past total
        "050003010001",  # total 0
        "0400020102",  # 8-bit concat with 2 octets
        "06080301020304",  # 16-bit concat with 3 octets
    ],
)
def test_malformed_udh_raises_udh_error_with_invalid_esm_class(message: str) -> None:
    with pytest.raises(UdhError) as caught:
        parse_udh(bytes.fromhex(message))
    assert isinstance(caught.value, PduError)
    assert caught.value.command_status == CommandStatus.ESME_RINVESMCLASS


@pytest.mark.parametrize(
    ("ref", "total", "seq", "sixteen"),
    [
        (256, 2, 1, False),
        (-1, 2, 1, False),
        (0x10000, 2, 1, True),
        (1, 0, 0, False),
        (1, 2, 3, False),
    ],
)
def test_impossible_concat_values_are_refused(
    ref: int, total: int, seq: int, sixteen: bool
) -> None:
    with pytest.raises(UdhError):
        build_concat_udh(ref, total, seq, sixteen_bit=sixteen)


@given(st.binary(max_size=200))
def test_random_bytes_raise_only_udh_error(message: bytes) -> None:
    try:
        udh, rest = parse_udh(message)
    except UdhError:
        return
    if udh is not None:
        assert udh.to_bytes() + rest == message
