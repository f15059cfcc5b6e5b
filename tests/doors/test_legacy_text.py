"""How the legacy doors read clients' text and lists: Windows-1251 or UTF-8 bytes, base64 of
either, and `;`/`,` lists."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.doors.legacy_text import (
    InvalidBase64,
    decode_base64_text,
    decode_legacy_text,
    split_list,
)

CYRILLIC = "Привіт, світ! Її ґанок"


def test_utf8_with_multibyte_sequences_is_read_as_utf8() -> None:
    assert decode_legacy_text(CYRILLIC.encode("utf-8")) == CYRILLIC


def test_windows_1251_bytes_are_read_as_windows_1251() -> None:
    assert decode_legacy_text(CYRILLIC.encode("cp1251")) == CYRILLIC


def test_pure_ascii_reads_the_same_either_way() -> None:
    assert decode_legacy_text(b"Order 42 shipped") == "Order 42 shipped"


def test_empty_bytes_are_empty_text() -> None:
    assert decode_legacy_text(b"") == ""


def test_byte_undefined_in_windows_1251_becomes_replacement_not_error() -> None:
    assert decode_legacy_text(b"a\x98b") == "a\ufffdb"


def test_truncated_utf8_falls_back_to_windows_1251() -> None:
    # "При" in UTF-8 with its last byte cut: not valid UTF-8, so read as Windows-1251.
    raw = "При".encode()[:-1]
    assert decode_legacy_text(raw) == raw.decode("cp1251", errors="replace")


@given(st.binary(max_size=200))
def test_any_bytes_decode_without_error(raw: bytes) -> None:
    assert isinstance(decode_legacy_text(raw), str)


@given(st.text(alphabet=st.characters(codec="cp1251"), max_size=100))
def test_every_windows_1251_text_round_trips(text: str) -> None:
    raw = text.encode("cp1251")
    decoded = decode_legacy_text(raw)
    # Either read as Windows-1251, or the bytes happened to be valid UTF-8 (ASCII included).
    assert decoded == text or decoded == raw.decode("utf-8")


def test_base64_of_windows_1251_is_decoded() -> None:
    value = base64.b64encode(CYRILLIC.encode("cp1251"))
    assert decode_base64_text(value) == CYRILLIC


def test_base64_of_utf8_is_decoded() -> None:
    value = base64.b64encode(CYRILLIC.encode("utf-8"))
    assert decode_base64_text(value) == CYRILLIC


def test_base64_plus_turned_into_space_by_form_decoding_is_restored() -> None:
    raw = b"\xfb\xef\xff"  # encodes with '+' and '/' in standard base64
    value = base64.b64encode(raw)
    assert b"+" in value or b"/" in value
    assert decode_base64_text(value.replace(b"+", b" ")) == raw.decode("cp1251")


def test_base64_without_padding_and_with_line_breaks_is_decoded() -> None:
    value = base64.b64encode(b"Hello there").rstrip(b"=")
    assert decode_base64_text(value[:4] + b"\r\n" + value[4:]) == "Hello there"


def test_url_safe_base64_is_decoded() -> None:
    raw = b"\xfb\xef\xff"
    assert decode_base64_text(base64.urlsafe_b64encode(raw)) == raw.decode("cp1251")


@pytest.mark.parametrize("value", [b"%%%%", b"abc!", b"\xff\xfe\xfd\xfc", b"a"])
def test_garbage_announced_as_base64_is_refused(value: bytes) -> None:
    with pytest.raises(InvalidBase64):
        decode_base64_text(value)


def test_list_splits_on_semicolons() -> None:
    assert split_list("380501234567;380671234567") == ["380501234567", "380671234567"]


def test_list_splits_on_commas_trims_spaces_and_drops_empties() -> None:
    assert split_list(" 1, 2 ;;3 ; ,") == ["1", "2", "3"]


def test_empty_list_is_empty() -> None:
    assert split_list("") == []
    assert split_list(" ; , ") == []


def test_list_keeps_items_as_given() -> None:
    assert split_list("+38 050 123 45 67;00001") == ["+38 050 123 45 67", "00001"]
