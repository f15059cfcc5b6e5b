"""The SMPP door's handler fuzzed through a real bind: submit_sm, data_sm, submit_multi, query_sm,
cancel_sm and replace_sm with fields a customer may get wrong in every way — TON/NPI, esm_class
and data_coding bytes, UDH and SAR headers that disagree, message_payload beside short_message,
times in any format, unknown and odd ids. The codec and the session are fuzzed on their own
(bench/fuzz_smpp.py); this is the door above them, with the gateway and the store. The oracle:
every request gets its own response (or a generic_nack), never ESME_RSYSERR (the status the
server gives a handler that raised), no error logged, and the bind lives on. Bounded and
repeatable: 200 requests, derandomized."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st

from smsgate.config import SmppDoorSettings
from smsgate.domain.gsm7 import encode_gsm7
from smsgate.doors.smpp.door import SmppDoor
from smsgate.gateway.outbox.pump import PumpPolicy
from smsgate.smpp.client import BindType, SmppClient
from smsgate.smpp.constants import CommandId, CommandStatus, Tag
from smsgate.smpp.pdu import (
    CancelSm,
    DataSm,
    DestAddress,
    EnquireLink,
    Pdu,
    PduError,
    QuerySm,
    ReplaceSm,
    SubmitMulti,
    SubmitSm,
    encode,
)

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

T = 10.0  # every request is answered within this
BIND = 30.0  # the bind checks a scrypt hash: slow on a loaded machine, never the point
RESPONSE_BIT = 0x8000_0000


@pytest.fixture
async def door(stack: Stack) -> AsyncIterator[SmppDoor]:
    d = SmppDoor(
        stack.gateway,
        SmppDoorSettings(host="127.0.0.1", port=0),
        assembly_timeout=0.5,  # held parts give up while the test runs
        pump_policy=PumpPolicy(interval=0.05, retry_after=0.1),
    )
    await asyncio.wait_for(d.start(), T)
    try:
        yield d
    finally:
        await asyncio.wait_for(d.stop(), T)


@pytest.fixture
async def client(door: SmppDoor, stack: Stack) -> AsyncIterator[SmppClient]:
    acct: TestAccount = await stack.account("alice")
    c = SmppClient(
        "127.0.0.1",
        door.port,
        acct.login,
        acct.smpp_password,
        BindType.TRANSCEIVER,
        reconnect=False,
        on_deliver=lambda pdu: 0,  # receipts of what was accepted, and of held parts given up
        response_timeout=BIND,
    )
    await c.start()
    try:
        await c.wait_bound(BIND)
        yield c
    finally:
        await asyncio.wait_for(c.close(1.0), T)


def often(value: Any, *others: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`value` seven times in eight, else one of `others`: most requests are bent in one or
    two fields, so most reach the gateway's own checks."""
    other = st.one_of(*others)
    return st.integers(0, 7).flatmap(lambda n: other if n == 0 else st.just(value))


bytes_ = st.integers(0, 255)
phones = often("380501234567", st.sampled_from(["", "12", "+380671234567", "x" * 20, "0"]))
senders = often("Shop", st.sampled_from(["", "Nobody", "380501234567", "SHOP", "Shop\x7f"]))
times = often(
    "",
    st.sampled_from(
        ["261231235959000+", "000001000000000R", "261231235959048-", "991399999999999+", "junk"]
    ),
)
plain_texts = st.integers(0, 10**6).map(lambda n: encode_gsm7(f"Hello {n}"))  # no duplicates
odd_texts = st.one_of(
    st.text(max_size=80).map(lambda t: t.encode("utf-16-be", "surrogatepass")),
    st.binary(max_size=160),
)
texts = st.integers(0, 7).flatmap(lambda n: odd_texts if n == 0 else plain_texts)


@st.composite
def short_messages(draw: st.DrawFn) -> tuple[int, bytes]:
    """(esm_class, short_message): plain, or a UDH part (8- or 16-bit reference) that may lie."""
    esm = draw(often(0, bytes_))
    if draw(st.integers(0, 3)) == 0:
        ref, total, seq = draw(st.integers(0, 65535)), draw(bytes_), draw(bytes_)
        if draw(st.integers(0, 3)):  # a true position, or a lying one (0 of 0, 7 of 3)
            total = draw(st.integers(1, 12))
            seq = draw(st.integers(1, total))
        if draw(st.booleans()):
            udh = bytes([6, 8, 4, ref >> 8, ref & 0xFF, total, seq])
        else:
            udh = bytes([5, 0, 3, ref & 0xFF, total, seq])
        return esm | 0x40, udh + draw(texts)
    if draw(st.integers(0, 9)) == 0:
        return esm | 0x40, draw(st.binary(max_size=12))  # a header that is no header
    return esm, draw(texts)


@st.composite
def tlvs(draw: st.DrawFn) -> dict[int, Any]:
    found: dict[int, Any] = {}
    if draw(st.integers(0, 5)) == 0:
        found[Tag.SAR_MSG_REF_NUM] = draw(st.integers(0, 65535))
        found[Tag.SAR_TOTAL_SEGMENTS] = draw(st.integers(0, 255))
        found[Tag.SAR_SEGMENT_SEQNUM] = draw(st.integers(0, 255))
    if draw(st.integers(0, 7)) == 0:
        found[Tag.MESSAGE_PAYLOAD] = draw(texts)
    if draw(st.integers(0, 5)) == 0:
        found[Tag.USER_MESSAGE_REFERENCE] = draw(st.integers(0, 65535))
    if draw(st.integers(0, 5)) == 0:
        found[draw(st.integers(0x1400, 0x3FFF))] = draw(st.binary(max_size=8))  # vendor tags
    return found


ids = st.one_of(
    st.integers(1, 2**53 - 1).map(str),
    st.sampled_from(["", "0", "123456789012345678", "abc", "-1", "9" * 64]),
)


@st.composite
def requests(draw: st.DrawFn) -> Pdu:
    kind = draw(st.sampled_from(["submit_sm"] * 5 + ["data_sm", "submit_multi", "query", "other"]))
    source = {
        "source_addr_ton": draw(often(5, bytes_)),
        "source_addr_npi": draw(often(0, bytes_)),
        "source_addr": draw(senders),
    }
    if kind in {"submit_sm", "submit_multi"}:
        esm, short = draw(short_messages())
        fields = {
            **source,
            "esm_class": esm,
            "data_coding": draw(often(0, st.sampled_from([1, 3, 4, 8, 0xF0, 0xF4]), bytes_)),
            "short_message": short,
            "registered_delivery": draw(often(1, bytes_)),
            "priority_flag": draw(often(0, bytes_)),
            "schedule_delivery_time": draw(times),
            "validity_period": draw(times),
            "tlvs": draw(tlvs()),
        }
        if kind == "submit_multi":
            addresses = st.builds(
                DestAddress,
                dest_addr_ton=often(1, bytes_),
                dest_addr_npi=often(1, bytes_),
                destination_addr=phones,
                dl_name=often(None, st.sampled_from(["list", ""])),
            )
            return SubmitMulti(**fields, dest_addresses=draw(st.lists(addresses, max_size=4)))
        return SubmitSm(
            **fields,
            dest_addr_ton=draw(often(1, bytes_)),
            dest_addr_npi=draw(often(1, bytes_)),
            destination_addr=draw(phones),
        )
    if kind == "data_sm":
        esm, _ = draw(short_messages())
        return DataSm(
            **source,
            dest_addr_ton=draw(often(1, bytes_)),
            dest_addr_npi=draw(often(1, bytes_)),
            destination_addr=draw(phones),
            esm_class=esm,
            registered_delivery=draw(often(1, bytes_)),
            data_coding=draw(often(0, bytes_)),
            tlvs=draw(tlvs()),
        )
    if kind == "query":
        return QuerySm(**source, message_id=draw(ids))
    if draw(st.booleans()):
        return CancelSm(**source, message_id=draw(ids), destination_addr=draw(phones))
    return ReplaceSm(**source, message_id=draw(ids), short_message=draw(texts))


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pdu=requests())
async def test_every_request_gets_its_own_answer_and_the_bind_lives_on(
    client: SmppClient, caplog: pytest.LogCaptureFixture, pdu: Pdu
) -> None:
    try:
        encode(pdu)
    except PduError:
        reject()  # a field the codec itself refuses to write (too long, out of range)
    answer = await asyncio.wait_for(client.request(pdu), T)
    assert answer.command_id in {pdu.command_id | RESPONSE_BIT, CommandId.GENERIC_NACK}, answer
    assert answer.command_status != CommandStatus.ESME_RSYSERR, (pdu, answer)
    assert (await asyncio.wait_for(client.request(EnquireLink()), T)).command_status == 0
    errors = [r for r in caplog.records if r.levelname in {"ERROR", "CRITICAL"}]
    assert errors == [], [r.getMessage() for r in errors]
    event(f"{type(pdu).__name__} -> {CommandStatus(answer.command_status).name}")
