import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.domain.gsm7 import DEFAULT_ALPHABET, ESC, EXTENSION, encode_gsm7
from smsgate.domain.segments import (
    EmptyText,
    Segmented,
    decode_payload,
    split_encoded,
    split_text,
)

BASIC_CHARS = [ch for code, ch in enumerate(DEFAULT_ALPHABET) if code != ESC]
GSM_TEXT = st.text(alphabet=st.sampled_from(BASIC_CHARS + list(EXTENSION)), min_size=1)
ANY_TEXT = st.text(min_size=1, max_size=700)
EMOJI = "😀"


def joined(seg: Segmented) -> str:
    return "".join(decode_payload(seg.data_coding, p) for p in seg.parts)


def expected_parts(units: int, single: int, each: int) -> int:
    return 1 if units <= single else math.ceil(units / each)


def test_empty_text_is_an_error() -> None:
    with pytest.raises(EmptyText):
        split_text("")
    assert issubclass(EmptyText, ValueError)


def test_gsm_text_uses_data_coding_zero_with_unpacked_septets() -> None:
    seg = split_text("Hi @")
    assert seg == Segmented(data_coding=0, parts=(b"Hi \x00",), units=4)


def test_non_gsm_text_uses_ucs2_big_endian() -> None:
    seg = split_text("Привіт")
    assert seg.data_coding == 8
    assert seg.parts == ("Привіт".encode("utf-16-be"),)
    assert seg.units == 6


def test_one_cyrillic_letter_turns_the_whole_text_into_ucs2() -> None:
    assert split_text("a" * 100 + "ж").data_coding == 8


@pytest.mark.parametrize(("length", "parts"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3)])
def test_gsm_part_count_on_edge_lengths(length: int, parts: int) -> None:
    seg = split_text("a" * length)
    assert len(seg.parts) == parts
    assert seg.units == length


@pytest.mark.parametrize(("length", "parts"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_part_count_on_edge_lengths(length: int, parts: int) -> None:
    seg = split_text("ж" * length)
    assert len(seg.parts) == parts
    assert seg.units == length


def test_multipart_gsm_parts_hold_153_septets() -> None:
    seg = split_text("a" * 400)
    assert [len(p) for p in seg.parts] == [153, 153, 94]


def test_multipart_ucs2_parts_hold_67_units() -> None:
    seg = split_text("ж" * 150)
    assert [len(p) // 2 for p in seg.parts] == [67, 67, 16]


def test_extension_characters_count_two_septets_toward_the_single_limit() -> None:
    assert len(split_text("€" * 80).parts) == 1
    assert len(split_text("€" * 80 + "a").parts) == 2
    assert split_text("€" * 80).units == 160


def test_escape_pair_at_the_part_boundary_moves_whole_to_the_next_part() -> None:
    seg = split_text("a" * 152 + "€" + "b" * 10)
    assert [len(p) for p in seg.parts] == [152, 12]
    assert seg.parts[1].startswith(b"\x1b\x65")


def test_escape_pair_ending_exactly_on_the_boundary_stays_in_the_part() -> None:
    seg = split_text("a" * 151 + "€" + "b" * 10)
    assert [len(p) for p in seg.parts] == [153, 10]


def test_emoji_at_the_67th_unit_moves_whole_to_the_next_part() -> None:
    seg = split_text("ж" * 66 + EMOJI + "ж" * 10)
    assert [len(p) // 2 for p in seg.parts] == [66, 12]
    assert seg.parts[1].decode("utf-16-be").startswith(EMOJI)
    assert seg.units == 78


def test_emoji_ending_exactly_at_the_67th_unit_stays_in_the_part() -> None:
    seg = split_text("ж" * 65 + EMOJI + "ж" * 10)
    assert [len(p) // 2 for p in seg.parts] == [67, 10]


def test_emoji_counts_two_units_toward_the_single_limit() -> None:
    assert len(split_text(EMOJI * 35).parts) == 1
    assert len(split_text(EMOJI * 35 + "a").parts) == 2


@given(ANY_TEXT)
def test_every_text_round_trips_through_its_parts(text: str) -> None:
    assert joined(split_text(text)) == text


@given(ANY_TEXT)
def test_no_part_exceeds_its_limit(text: str) -> None:
    seg = split_text(text)
    limit_single, limit_each = (160, 153) if seg.data_coding == 0 else (140, 134)
    limit = limit_single if len(seg.parts) == 1 else limit_each
    assert all(0 < len(p) <= limit for p in seg.parts)


@given(ANY_TEXT)
def test_every_part_decodes_alone_without_a_broken_pair(text: str) -> None:
    seg = split_text(text)
    for part in seg.parts:
        if seg.data_coding == 8:
            part.decode("utf-16-be")  # strict: raises on an orphaned surrogate
        else:
            assert not part.endswith(b"\x1b")  # split_text never emits a double ESC


@given(st.text(alphabet=st.sampled_from(BASIC_CHARS), min_size=1, max_size=700))
def test_gsm_part_count_matches_formula_without_extension_chars(text: str) -> None:
    assert len(split_text(text).parts) == expected_parts(len(text), 160, 153)


@given(st.text(alphabet="жї", min_size=1, max_size=400))
def test_ucs2_part_count_matches_formula_in_the_basic_plane(text: str) -> None:
    assert len(split_text(text).parts) == expected_parts(len(text), 70, 67)


@given(GSM_TEXT)
def test_gsm_parts_concatenate_to_the_encoding(text: str) -> None:
    seg = split_text(text)
    assert b"".join(seg.parts) == encode_gsm7(text)
    assert seg.units == len(encode_gsm7(text))


def test_split_encoded_gsm_never_splits_an_escape_pair() -> None:
    payload = encode_gsm7("a" * 152 + "€" + "b" * 10)
    assert [len(p) for p in split_encoded(0, payload)] == [152, 12]


def test_split_encoded_gsm_double_escape_is_a_pair_not_an_opener() -> None:
    payload = b"a" * 151 + b"\x1b\x1b" + b"b" * 10
    assert [len(p) for p in split_encoded(0, payload)] == [153, 10]


def test_split_encoded_ucs2_keeps_surrogates_together() -> None:
    payload = ("ж" * 66 + EMOJI).encode("utf-16-be") + b"\x00a" * 10
    assert [len(p) for p in split_encoded(8, payload)] == [132, 24]


@pytest.mark.parametrize("data_coding", [3, 4, 2, 0xF4])
def test_split_encoded_eight_bit_uses_140_then_134(data_coding: int) -> None:
    assert [len(p) for p in split_encoded(data_coding, b"x" * 140)] == [140]
    assert [len(p) for p in split_encoded(data_coding, b"x" * 141)] == [134, 7]


@pytest.mark.parametrize("data_coding", [0, 1, 0xF0])
def test_split_encoded_seven_bit_uses_160_then_153(data_coding: int) -> None:
    assert [len(p) for p in split_encoded(data_coding, b"x" * 160)] == [160]
    assert [len(p) for p in split_encoded(data_coding, b"x" * 161)] == [153, 8]


def test_split_encoded_ucs2_uses_70_then_67_units() -> None:
    assert len(split_encoded(8, b"\x04\x36" * 70)) == 1
    assert [len(p) for p in split_encoded(8, b"\x04\x36" * 71)] == [134, 8]


def test_split_encoded_empty_payload_is_an_error() -> None:
    with pytest.raises(EmptyText):
        split_encoded(0, b"")


@given(ANY_TEXT)
def test_split_encoded_agrees_with_split_text(text: str) -> None:
    seg = split_text(text)
    assert split_encoded(seg.data_coding, b"".join(seg.parts)) == seg.parts


def test_decode_payload_per_data_coding() -> None:
    assert decode_payload(0, b"\x00Hi\x1b\x65") == "@Hi€"
    assert decode_payload(8, "Привіт".encode("utf-16-be")) == "Привіт"
    assert decode_payload(3, "café".encode("latin-1")) == "café"
    assert decode_payload(1, b"plain") == "plain"


def test_decode_payload_is_lenient_with_broken_input() -> None:
    assert decode_payload(8, b"\xd8\x3d") == "\ufffd"
    assert decode_payload(8, b"\x00a\x00") == "a\ufffd"
    assert decode_payload(1, b"a\xffb") == "a\ufffdb"


def test_decode_payload_binary_keeps_every_octet() -> None:
    assert decode_payload(4, bytes(range(256))).encode("latin-1") == bytes(range(256))


@pytest.mark.parametrize("text", ["back`tick", "tab\there", "bell\x07"])
def test_ascii_text_outside_the_gsm_alphabet_is_sent_as_ucs2(text: str) -> None:
    seg = split_text(text)
    assert seg.data_coding == 8
    assert joined(seg) == text
