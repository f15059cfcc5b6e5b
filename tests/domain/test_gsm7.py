import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.domain.gsm7 import (
    DEFAULT_ALPHABET,
    ESC,
    EXTENSION,
    NotGsm7,
    decode_gsm7,
    encode_gsm7,
    gsm7_length,
    is_gsm7,
    pack_septets,
    unpack_septets,
)

BASIC_CHARS = [ch for code, ch in enumerate(DEFAULT_ALPHABET) if code != ESC]
GSM_TEXT = st.text(alphabet=st.sampled_from(BASIC_CHARS + list(EXTENSION)), max_size=400)


def test_default_alphabet_has_128_positions_with_at_sign_at_zero() -> None:
    assert len(DEFAULT_ALPHABET) == 128
    assert encode_gsm7("@") == b"\x00"


@pytest.mark.parametrize(
    ("char", "code"),
    [("£", 0x01), ("$", 0x02), ("\n", 0x0A), ("\r", 0x0D), ("Δ", 0x10), ("_", 0x11), ("É", 0x1F),
     (" ", 0x20), ("¤", 0x24), ("¡", 0x40), ("A", 0x41), ("§", 0x5F), ("¿", 0x60), ("à", 0x7F)],
)  # fmt: skip
def test_characters_sit_at_their_03_38_positions(char: str, code: int) -> None:
    assert encode_gsm7(char) == bytes([code])


def test_extension_characters_are_escaped() -> None:
    assert encode_gsm7("€") == b"\x1b\x65"
    assert encode_gsm7("{}[]~|^\\\x0c") == bytes.fromhex("1b281b291b3c1b3e1b3d1b401b141b2f1b0a")


def test_is_gsm7_accepts_plain_latin_and_extension_text() -> None:
    assert is_gsm7("Hello, world! Price: 5€ {ok}")
    assert is_gsm7("")


@pytest.mark.parametrize("text", ["Привіт", "😀", "`", "ç", "\x1b", "\t", "ÿ"])
def test_is_gsm7_rejects_characters_outside_the_alphabet(text: str) -> None:
    assert not is_gsm7(text)
    with pytest.raises(NotGsm7):
        encode_gsm7(text)
    with pytest.raises(NotGsm7):
        gsm7_length(text)


def test_length_counts_extension_characters_twice() -> None:
    assert gsm7_length("abc") == 3
    assert gsm7_length("€") == 2
    assert gsm7_length("a{b}") == 6


def test_decode_maps_unknown_octets_to_question_mark() -> None:
    assert decode_gsm7(b"A\x80B\xff") == "A?B?"


def test_decode_maps_unknown_extension_code_to_question_mark() -> None:
    assert decode_gsm7(b"\x1b\x41x") == "?x"


def test_decode_ignores_lone_escape_at_end() -> None:
    assert decode_gsm7(b"Hi\x1b") == "Hi"


def test_pack_known_vector_hellohello() -> None:
    assert pack_septets(encode_gsm7("hellohello")) == bytes.fromhex("e8329bfd4697d9ec37")


def test_pack_eight_septets_fill_seven_octets() -> None:
    assert len(pack_septets(b"\x41" * 8)) == 7
    assert len(pack_septets(b"\x41" * 7)) == 7
    assert pack_septets(b"") == b""


def test_unpack_without_count_returns_every_whole_septet() -> None:
    assert unpack_septets(pack_septets(b"\x41" * 7)) == b"\x41" * 7 + b"\x00"


def test_unpack_rejects_count_larger_than_the_data() -> None:
    with pytest.raises(ValueError):
        unpack_septets(b"\x00", 2)


def test_pack_rejects_values_above_seven_bits() -> None:
    with pytest.raises(ValueError):
        pack_septets(b"\x80")


@given(GSM_TEXT)
def test_every_gsm_text_round_trips_and_length_matches_encoding(text: str) -> None:
    encoded = encode_gsm7(text)
    assert decode_gsm7(encoded) == text
    assert gsm7_length(text) == len(encoded)
    assert is_gsm7(text)


@given(st.binary(max_size=300).map(lambda b: bytes(x & 0x7F for x in b)))
def test_pack_then_unpack_round_trips(septets: bytes) -> None:
    packed = pack_septets(septets)
    assert len(packed) == (len(septets) * 7 + 7) // 8
    assert unpack_septets(packed, len(septets)) == septets


@given(st.binary(max_size=300))
def test_decode_never_fails_on_any_octets(data: bytes) -> None:
    assert isinstance(decode_gsm7(data), str)


@given(st.text(max_size=50))
def test_is_gsm7_agrees_with_encoding(text: str) -> None:
    try:
        encode_gsm7(text)
    except NotGsm7:
        assert not is_gsm7(text)
    else:
        assert is_gsm7(text)


def reference_encode(text: str) -> bytes:
    """Character by character from the tables: the slow, obvious encoder."""
    out = bytearray()
    for ch in text:
        if ch in EXTENSION:
            out += bytes((ESC, EXTENSION[ch]))
        else:
            out.append(DEFAULT_ALPHABET.index(ch))
    return bytes(out)


ASCII_GSM = [ch for ch in BASIC_CHARS + list(EXTENSION) if ch.isascii()]


@given(st.text(alphabet=st.sampled_from(ASCII_GSM), max_size=400))
def test_ascii_fast_encoder_matches_the_table(text: str) -> None:
    assert encode_gsm7(text) == reference_encode(text)


@given(GSM_TEXT)
def test_general_encoder_matches_the_table(text: str) -> None:
    assert encode_gsm7(text) == reference_encode(text)


@pytest.mark.parametrize("char", ["`", "\t", "\x00", "\x7f", "\x1b"])
def test_ascii_outside_the_alphabet_is_refused_even_among_extension_chars(char: str) -> None:
    with pytest.raises(NotGsm7):
        encode_gsm7("{" + char + "}")
