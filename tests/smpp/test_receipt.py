"""Receipt text: our format exactly, every variant real SMSCs send parsed, stat <-> state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.smpp.constants import MessageState
from smsgate.smpp.receipt import (
    Receipt,
    ReceiptError,
    _parse_by_keys,
    _parse_date,
    format_receipt,
    message_state_for_stat,
    parse_receipt,
    stat_for_message_state,
)

CANONICAL = (
    "id:0123456789 sub:001 dlvrd:001 submit date:2405011200 done date:2405011201 "
    "stat:DELIVRD err:000 text:Hello there, this is"
)
RECEIPT = Receipt(
    id="0123456789",
    sub=1,
    dlvrd=1,
    submit_date=datetime(2024, 5, 1, 12, 0),
    done_date=datetime(2024, 5, 1, 12, 1),
    stat="DELIVRD",
    err=0,
    text="Hello there, this is",
)


def test_format_is_exactly_the_de_facto_text() -> None:
    assert format_receipt(RECEIPT) == CANONICAL


def test_format_keeps_only_the_first_20_characters_of_text() -> None:
    long = Receipt("a", 1, 0, None, None, "UNDELIV", 11, "x" * 50)
    assert format_receipt(long).endswith("stat:UNDELIV err:011 text:" + "x" * 20)
    assert "submit date:0000000000 done date:0000000000" in format_receipt(long)


def test_parse_reads_the_canonical_text() -> None:
    assert parse_receipt(CANONICAL) == RECEIPT
    assert parse_receipt(CANONICAL.encode()) == RECEIPT


def test_capital_text_key_from_the_spec_example() -> None:
    assert parse_receipt(CANONICAL.replace("text:", "Text:")).text == "Hello there, this is"


def test_receipt_without_text_field() -> None:
    receipt = parse_receipt(CANONICAL.split(" text:")[0])
    assert receipt.text == "" and receipt.stat == "DELIVRD"


def test_twelve_digit_dates_with_seconds() -> None:
    text = CANONICAL.replace("2405011200", "240501120030").replace("2405011201", "240501120159")
    receipt = parse_receipt(text)
    assert receipt.submit_date == datetime(2024, 5, 1, 12, 0, 30)
    assert receipt.done_date == datetime(2024, 5, 1, 12, 1, 59)


def test_long_and_hex_ids() -> None:
    text = CANONICAL.replace("0123456789", "7f3a9c0e-41b2-4d6e-9f00-aabbccddeeff")
    assert parse_receipt(text).id == "7f3a9c0e-41b2-4d6e-9f00-aabbccddeeff"
    assert (
        parse_receipt(CANONICAL.replace("0123456789", "1A2B3C4D5E6F7A8B")).id == "1A2B3C4D5E6F7A8B"
    )


@pytest.mark.parametrize(("err", "value"), [("000", 0), ("011", 11), ("0x1F", 31), ("00B", 11)])
def test_err_in_decimal_or_hex(err: str, value: int) -> None:
    assert parse_receipt(CANONICAL.replace("err:000", f"err:{err}")).err == value


def test_odd_spacing_and_case() -> None:
    text = (
        "ID: abc  SUB:1 DLVRD : 1  Submit Date:2405011200   DONE_DATE:2405011201 "
        "Stat: delivrd ERR: 0 TEXT: hi"
    )
    receipt = parse_receipt(text)
    assert receipt.id == "abc" and receipt.sub == 1 and receipt.dlvrd == 1
    assert receipt.submit_date == datetime(2024, 5, 1, 12, 0)
    assert receipt.done_date == datetime(2024, 5, 1, 12, 1)
    assert receipt.stat == "DELIVRD" and receipt.err == 0 and receipt.text == "hi"


def test_trailing_junk_is_ignored_after_the_fields() -> None:
    receipt = parse_receipt(CANONICAL.split(" text:")[0] + " \x00\x00 vendor=42;")
    assert receipt.err == 0 and receipt.stat == "DELIVRD"


def test_text_may_contain_words_that_look_like_keys() -> None:
    assert parse_receipt(CANONICAL.replace("Hello there, this is", "your id: 5 stat: ok")).text == (
        "your id: 5 stat: ok"
    )


def test_impossible_dates_become_none_rather_than_failing_the_receipt() -> None:
    receipt = parse_receipt(CANONICAL.replace("2405011200", "0000000000"))
    assert receipt.submit_date is None and receipt.stat == "DELIVRD"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world",
        "sub:001 stat:DELIVRD",
        "id:abc sub:001",
        "id: stat:DELIVRD",
        "id:x stat:123",
    ],
)
def test_garbage_raises_receipt_error(text: str) -> None:
    with pytest.raises(ReceiptError):
        parse_receipt(text)


@given(st.text(max_size=200))
def test_random_text_raises_only_receipt_error(text: str) -> None:
    try:
        receipt = parse_receipt(text)
    except ReceiptError:
        return
    assert receipt.id and receipt.stat.isalpha()


@given(
    st.text("0123456789abcdefABCDEF-", min_size=1, max_size=64),
    st.integers(0, 999),
    st.integers(0, 999),
    st.sampled_from(["DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"]),
    st.integers(0, 999),
    # Leading whitespace after "text:" is not kept (peers write "Text: hi"); the rest is.
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20).map(str.lstrip),
)
def test_format_then_parse_round_trips(
    rid: str, sub: int, dlvrd: int, stat: str, err: int, text: str
) -> None:
    receipt = Receipt(rid, sub, dlvrd, datetime(2024, 5, 1, 12, 0), None, stat, err, text)
    assert parse_receipt(format_receipt(receipt)) == receipt


def _outcome(parse: Callable[[str], Receipt], text: str) -> object:
    try:
        return parse(text)
    except ReceiptError as exc:
        return ReceiptError, str(exc)


_CANONICAL_PIECES = st.text("0123456789abcdefxX:_- \t", max_size=14)


@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "id:",
                    " sub:",
                    " dlvrd:",
                    " submit date:",
                    " done date:",
                    " stat:",
                    " err:",
                    " text:",
                    " Text:",
                    "DELIVRD",
                    "2405011200",
                    "240501120059",
                    "001",
                ]
            ),
            _CANONICAL_PIECES,
        ),
        max_size=24,
    )
)
def test_the_one_match_fast_path_reads_what_the_key_by_key_parse_reads(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert _outcome(parse_receipt, text) == _outcome(_parse_by_keys, text)


@given(
    st.tuples(
        st.text("0123456789abcdefABCDEF-", min_size=1, max_size=12),
        st.text("0123456789", min_size=1, max_size=3),
        st.text("0123456789", min_size=1, max_size=3),
        st.text("0123456789", max_size=12),
        st.text("0123456789", max_size=12),
        st.text("DELIVRDundeliv", min_size=1, max_size=8),
        st.text("0123456789abcdefxX", min_size=1, max_size=4),
    ),
    st.one_of(st.none(), st.text(max_size=20)),
    st.integers(0, 9),
    _CANONICAL_PIECES,
)
def test_near_canonical_receipts_read_the_same_on_both_paths(
    fields: tuple[str, ...], body: str | None, broken: int, junk: str
) -> None:
    values = list(fields)
    if broken < len(values):
        values[broken] = junk  # one field anything at all: both paths must still agree
    rid, sub, dlvrd, submit, done, stat, err = values
    text = (
        f"id:{rid} sub:{sub} dlvrd:{dlvrd} submit date:{submit} done date:{done} "
        f"stat:{stat} err:{err}" + ("" if body is None else f" text:{body}")
    )
    assert _outcome(parse_receipt, text) == _outcome(_parse_by_keys, text)


@given(
    st.integers(0, 99),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.one_of(st.none(), st.integers(0, 62)),
)
def test_dates_read_as_strptime_reads_them(
    yy: int, mm: int, dd: int, hh: int, mi: int, ss: int | None
) -> None:
    text = f"{yy:02d}{mm:02d}{dd:02d}{hh:02d}{mi:02d}" + ("" if ss is None else f"{ss:02d}")
    try:
        expected: datetime | None = datetime.strptime(
            text, "%y%m%d%H%M" if ss is None else "%y%m%d%H%M%S"
        )
    except ValueError:
        expected = None
    assert _parse_date(text) == expected


@pytest.mark.parametrize(
    ("stat", "state"),
    [
        ("ENROUTE", MessageState.ENROUTE),
        ("DELIVRD", MessageState.DELIVERED),
        ("EXPIRED", MessageState.EXPIRED),
        ("DELETED", MessageState.DELETED),
        ("UNDELIV", MessageState.UNDELIVERABLE),
        ("ACCEPTD", MessageState.ACCEPTED),
        ("UNKNOWN", MessageState.UNKNOWN),
        ("REJECTD", MessageState.REJECTED),
    ],
)
def test_stat_and_message_state_map_both_ways(stat: str, state: MessageState) -> None:
    assert message_state_for_stat(stat) == state
    assert message_state_for_stat(stat.lower()) == state
    assert stat_for_message_state(state) == stat


def test_unrecognised_stat_is_unknown_state() -> None:
    assert message_state_for_stat("FOOBAR") == MessageState.UNKNOWN
    assert message_state_for_stat("DELIVERED") == MessageState.DELIVERED


def test_message_state_without_a_stat_is_refused() -> None:
    with pytest.raises(ReceiptError):
        stat_for_message_state(0)
