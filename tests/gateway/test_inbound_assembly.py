"""Reassembly of concatenated MO messages: any order, duplicates ignored, incomplete ones
released after the timeout, memory bounded, text decoded from the joined octets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgate.domain.segments import split_text
from smsgate.gateway.inbound_assembly import InboundMessage, Reassembly
from smsgate.smpp.inbound_part import InboundPart
from smsgate.smpp.udh import Concat

SOURCE, DEST = "380501234567", "7510"


def parts_of(
    text: str, ref: int = 7, sixteen_bit: bool = False, source: str = SOURCE
) -> list[InboundPart]:
    seg = split_text(text)
    total = len(seg.parts)
    return [
        InboundPart(
            source,
            1,
            DEST,
            seg.data_coding,
            payload,
            Concat(ref, total, i, sixteen_bit) if total > 1 else None,
        )
        for i, payload in enumerate(seg.parts, start=1)
    ]


def feed(r: Reassembly, parts: list[InboundPart], now: float = 0.0) -> list[InboundMessage]:
    out: list[InboundMessage] = []
    for part in parts:
        out += r.add(part, now)
    return out


LONG_GSM = "Hello from the other side, " * 12  # 3 GSM-7 parts
LONG_UCS2 = "Привіт, це довге повідомлення українською мовою. " * 5  # 4 UCS-2 parts


def test_a_single_part_message_is_ready_at_once() -> None:
    r = Reassembly()
    (msg,) = r.add(parts_of("STOP")[0], 5.0)
    assert (msg.text, msg.parts, msg.total, msg.complete, msg.first_at) == ("STOP", 1, 1, True, 5.0)
    assert r.pending == 0


def test_parts_in_order_make_one_message_when_the_last_arrives() -> None:
    r = Reassembly()
    parts = parts_of(LONG_GSM)
    assert len(parts) == 3
    assert feed(r, parts[:2]) == []
    assert r.pending == 1
    (msg,) = r.add(parts[2], 1.0)
    assert msg.text == LONG_GSM and msg.complete and msg.parts == msg.total == 3
    assert r.pending == 0 and r.next_deadline() is None


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("abc xyz€{}[]ÆñПривітЇї😀👍🏽\u0301"), min_size=161, max_size=600
    ),
    st.randoms(use_true_random=False),
    st.integers(min_value=0, max_value=3),
)
def test_any_order_with_duplicates_gives_the_text_back_exactly_once(
    text: str, rnd: object, duplicates: int
) -> None:
    import random

    assert isinstance(rnd, random.Random)
    parts = parts_of(text)  # 161 characters or more: always concatenated
    assert len(parts) > 1
    arrivals = parts + [rnd.choice(parts) for _ in range(duplicates)]
    rnd.shuffle(arrivals)
    r = Reassembly()
    ready = feed(r, arrivals)
    assert len(ready) == 1 and ready[0].text == text and ready[0].complete
    assert r.pending == 0


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_interleaved_messages_from_several_senders_and_refs_stay_apart(data: st.DataObject) -> None:
    texts = {
        ("380501111111", 1, False): LONG_GSM,
        ("380501111111", 2, False): LONG_UCS2,
        ("380502222222", 1, False): LONG_UCS2[::-1],
        ("380502222222", 1, True): LONG_GSM.upper(),  # same number, 16-bit reference space
    }
    arrivals = [p for (src, ref, wide), t in texts.items() for p in parts_of(t, ref, wide, src)]
    order = data.draw(st.permutations(arrivals))
    ready = feed(Reassembly(), list(order))
    got = {(m.source, m.text) for m in ready}
    assert got == {(src, t) for (src, _, _), t in texts.items()}


def test_a_ucs2_surrogate_pair_split_between_parts_comes_out_whole() -> None:
    # Another SMSC may cut UCS-2 anywhere; our own splitter never would.
    utf16 = ("a" * 66 + "😀" + "b").encode("utf-16-be")
    first, second = utf16[:134], utf16[134:]
    assert 0xD8 <= first[-2] <= 0xDB  # the high surrogate ends part 1
    parts = [
        InboundPart(SOURCE, 1, DEST, 8, first, Concat(3, 2, 1)),
        InboundPart(SOURCE, 1, DEST, 8, second, Concat(3, 2, 2)),
    ]
    (msg,) = feed(Reassembly(), parts[::-1])
    assert msg.text == "a" * 66 + "😀" + "b"


def test_a_gsm7_escape_split_between_parts_comes_out_whole() -> None:
    parts = [
        InboundPart(SOURCE, 1, DEST, 0, b"price 5\x1b", Concat(4, 2, 1)),
        InboundPart(SOURCE, 1, DEST, 0, b"\x65 only", Concat(4, 2, 2)),
    ]
    (msg,) = feed(Reassembly(), parts)
    assert msg.text == "price 5€ only"


@pytest.mark.parametrize(
    ("data_coding", "payload", "text"),
    [
        (0, b"\x00\x01\x02STOP", "@£$STOP"),  # GSM-7, unpacked
        (1, b"plain ascii", "plain ascii"),
        (3, "café £".encode("latin-1"), "café £"),
        (8, "СТОП".encode("utf-16-be"), "СТОП"),
        (8, "👍".encode("utf-16-be"), "👍"),
    ],
)
def test_text_is_decoded_by_data_coding(data_coding: int, payload: bytes, text: str) -> None:
    (msg,) = Reassembly().add(InboundPart(SOURCE, 1, DEST, data_coding, payload), 0.0)
    assert msg.text == text and msg.data_coding == data_coding


def test_an_incomplete_message_is_released_after_the_timeout_marked_so() -> None:
    r = Reassembly(timeout=300)
    parts = parts_of(LONG_UCS2)
    assert len(parts) == 4
    assert feed(r, [parts[0], parts[2]], now=100.0) == []
    assert r.next_deadline() == 400.0
    assert r.expire(399.9) == []
    (msg,) = r.expire(400.0)
    assert not msg.complete and msg.missing == (2, 4) and (msg.parts, msg.total) == (2, 4)
    assert msg.text.startswith(LONG_UCS2[:60])
    assert r.pending == 0 and r.next_deadline() is None


def test_a_part_arriving_after_its_message_was_released_starts_a_new_one() -> None:
    r = Reassembly(timeout=10)
    parts = parts_of(LONG_GSM)
    r.add(parts[0], 0.0)
    (released,) = r.expire(10.0)
    assert released.missing == (2, 3)
    assert r.add(parts[1], 11.0) == [] and r.pending == 1


def test_a_late_copy_after_the_message_was_released_is_ignored_for_the_timeout() -> None:
    r = Reassembly(timeout=60)
    parts = parts_of(LONG_GSM)
    assert len(feed(r, parts, now=0.0)) == 1
    assert r.add(parts[1], 30.0) == [] and r.pending == 0 and r.duplicates == 1
    assert r.expire(60.0) == []  # forgets the released message after the timeout
    assert r.add(parts[1], 61.0) == [] and r.pending == 1  # now it starts a new one


def test_a_new_message_reusing_a_released_reference_is_assembled() -> None:
    r = Reassembly()
    feed(r, parts_of(LONG_GSM, ref=9))
    (msg,) = feed(r, parts_of(LONG_GSM.upper(), ref=9))
    assert msg.text == LONG_GSM.upper() and msg.complete


def test_duplicates_are_ignored_and_counted() -> None:
    r = Reassembly()
    parts = parts_of(LONG_GSM)
    assert feed(r, [parts[0], parts[0], parts[1], parts[1]]) == []
    assert r.duplicates == 2
    (msg,) = r.add(parts[2], 0.0)
    assert msg.text == LONG_GSM


def test_expiry_releases_the_oldest_first_and_keeps_younger_ones() -> None:
    r = Reassembly(timeout=60)
    r.add(parts_of(LONG_GSM, ref=1)[0], 0.0)
    r.add(parts_of(LONG_GSM, ref=2)[0], 30.0)
    assert [m.first_at for m in r.expire(60.0)] == [0.0]
    assert r.next_deadline() == 90.0 and r.pending == 1


def test_too_many_pending_messages_release_the_oldest_early() -> None:
    r = Reassembly(max_pending=2)
    firsts = [parts_of(LONG_GSM, ref=ref)[0] for ref in (1, 2, 3)]
    assert r.add(firsts[0], 0.0) == [] and r.add(firsts[1], 1.0) == []
    (evicted,) = r.add(firsts[2], 2.0)
    assert evicted.first_at == 0.0 and not evicted.complete
    assert r.pending == 2


def test_too_many_pending_bytes_release_the_oldest_early() -> None:
    r = Reassembly(max_pending_bytes=200)
    a, b = parts_of(LONG_GSM, ref=1), parts_of(LONG_GSM, ref=2)
    assert feed(r, a[:1]) == []  # 153 octets waiting
    (evicted,) = r.add(b[0], 1.0)  # 306: the older message goes, incomplete
    assert evicted.first_at == 0.0 and evicted.missing == (2, 3)
    assert r.pending == 1
    (alone,) = r.add(b[1], 2.0)  # one message over the bound on its own is released too
    assert alone.missing == (3,) and r.pending == 0


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        Reassembly(timeout=0)
    with pytest.raises(ValueError):
        Reassembly(max_pending=0)
