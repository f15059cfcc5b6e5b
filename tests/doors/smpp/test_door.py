"""The SMPP door over real sockets on 127.0.0.1: our SmppClient (or a bare socket) as the
customer, a real Gateway on a temporary SQLite store behind it."""

from __future__ import annotations

import asyncio
import logging
import ssl
import struct
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from smsgate.config import SmppDoorSettings
from smsgate.domain.gsm7 import encode_gsm7
from smsgate.domain.segments import decode_payload
from smsgate.domain.status import PartState
from smsgate.doors.smpp.door import SmppDoor
from smsgate.doors.smpp.time_format import format_absolute
from smsgate.gateway.outbox.pump import PumpPolicy
from smsgate.smpp.client import BindFailed, BindType, SmppClient
from smsgate.smpp.constants import (
    ESM_DELIVERY_RECEIPT,
    ESM_UDHI,
    CommandId,
    CommandStatus,
    MessageState,
    Tag,
)
from smsgate.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    CancelSm,
    DataSm,
    DeliverSm,
    DestAddress,
    EnquireLink,
    GenericNack,
    Pdu,
    QuerySm,
    QuerySmResp,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    decode,
    encode,
)
from smsgate.smpp.receipt import parse_receipt
from smsgate.smpp.udh import build_concat_udh
from smsgate.store.records import ClaimedPart, HeldPart, OperatorReceipt, SubmitDone

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

S = CommandStatus
T = 5.0  # every await in these tests is bounded by this
PHONE = "380501234567"


@pytest.fixture
async def door(stack: Stack) -> AsyncIterator[SmppDoor]:
    d = SmppDoor(
        stack.gateway,
        SmppDoorSettings(host="127.0.0.1", port=0),
        assembly_timeout=0.5,
        pump_policy=PumpPolicy(interval=0.05, retry_after=0.1),
    )
    await asyncio.wait_for(d.start(), T)
    try:
        yield d
    finally:
        await asyncio.wait_for(d.stop(), T)


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("alice")


class Receipts:
    """A customer's deliver_sm inbox."""

    def __init__(self) -> None:
        self.pdus: list[DeliverSm | DataSm] = []
        self.arrived = asyncio.Event()

    def __call__(self, pdu: DeliverSm | DataSm) -> int:
        self.pdus.append(pdu)
        self.arrived.set()
        return 0

    async def wait(self, count: int, timeout: float = T) -> list[DeliverSm | DataSm]:
        async with asyncio.timeout(timeout):
            while len(self.pdus) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.pdus


@asynccontextmanager
async def customer(
    port: int,
    acct: TestAccount,
    bind: BindType = BindType.TRANSCEIVER,
    *,
    receipts: Receipts | None = None,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[SmppClient]:
    client = SmppClient(
        "127.0.0.1",
        port,
        acct.login,
        acct.smpp_password,
        bind,
        reconnect=False,
        on_deliver=receipts,
        tls=tls,
        response_timeout=T,
    )
    await client.start()
    try:
        await client.wait_bound(T)
        yield client
    finally:
        await asyncio.wait_for(client.close(1.0), T)


async def bind_status(port: int, login: str, password: str) -> int:
    client = SmppClient("127.0.0.1", port, login, password, reconnect=False, response_timeout=T)
    await client.start()
    try:
        await client.wait_bound(T)
        return 0
    except Exception:
        assert isinstance(client.last_error, BindFailed)
        return client.last_error.command_status
    finally:
        await asyncio.wait_for(client.close(1.0), T)


def sms(
    text: str = "Hello", *, to: str = PHONE, sender: str = "Shop", **fields: object
) -> SubmitSm:
    return SubmitSm(
        source_addr_ton=5,
        source_addr=sender,
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr=to,
        short_message=encode_gsm7(text),
        **fields,  # type: ignore[arg-type]
    )


async def submit(client: SmppClient, pdu: Pdu) -> Pdu:
    return await asyncio.wait_for(client.request(pdu), T)


async def claimed(stack: Stack) -> list[ClaimedPart]:
    return await stack.store.claim_parts(0, time.time() + 1, 100, 60)


async def make_final(stack: Stack, state: PartState = PartState.DELIVRD, error: int = 0) -> None:
    """Play the dispatcher and the operator: every queued part is submitted, then final."""
    parts = await claimed(stack)
    now = time.time()
    await stack.store.submitted(
        [SubmitDone(p.part_id, "op", f"op-{p.part_id}", now) for p in parts]
    )
    await stack.store.apply_receipts(
        [OperatorReceipt("op", f"op-{p.part_id}", state, error, now + 1) for p in parts]
    )


def text_of(parts: list[ClaimedPart]) -> str:
    ordered = sorted(parts, key=lambda p: p.seq)
    return decode_payload(ordered[0].data_coding, b"".join(p.payload for p in ordered))


async def json_status(stack: Stack, acct: TestAccount, ids: list[str]) -> dict[str, str]:
    r = await stack.client.post("/sms/status", json={"id_sms": ids}, headers=acct.auth)
    info: dict[str, str] = r.json()["success_request"].get("info", {})
    return info


async def read_pdu(reader: asyncio.StreamReader) -> Pdu:
    header = await asyncio.wait_for(reader.readexactly(4), T)
    (length,) = struct.unpack("!I", header)
    return decode(header + await asyncio.wait_for(reader.readexactly(length - 4), T))


# --- binds ------------------------------------------------------------------------------------


async def test_bind_with_the_smpp_password_succeeds(door: SmppDoor, acct: TestAccount) -> None:
    assert await bind_status(door.port, acct.login, acct.smpp_password) == 0


async def test_a_bind_ending_is_logged_with_why(
    door: SmppDoor, acct: TestAccount, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "smsgate.doors.smpp")

    def ended() -> list[tuple[str, str]]:
        return [
            (r.login, r.reason)  # type: ignore[attr-defined]
            for r in caplog.records
            if getattr(r, "event", None) == "smpp_unbind"
        ]

    assert await bind_status(door.port, acct.login, acct.smpp_password) == 0  # unbinds
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", door.port), T)
    writer.write(encode(BindTransceiver(1, system_id=acct.login, password=acct.smpp_password)))
    assert (await read_pdu(reader)).command_status == 0
    writer.close()  # no unbind: the connection just ends
    deadline = time.monotonic() + T
    while len(ended()) < 2:
        assert time.monotonic() < deadline, ended()
        await asyncio.sleep(0.02)
    assert ended() == [(acct.login, "unbind"), (acct.login, "closed")]


async def test_wrong_password_and_unknown_login_answer_alike(
    door: SmppDoor, acct: TestAccount
) -> None:
    assert await bind_status(door.port, acct.login, "nope") == S.ESME_RINVPASWD
    assert await bind_status(door.port, "nobody", "nope") == S.ESME_RINVPASWD


async def test_binds_beyond_the_accounts_maximum_fail(door: SmppDoor, acct: TestAccount) -> None:
    clients = []
    try:
        for _ in range(acct.record.max_binds):
            c = SmppClient("127.0.0.1", door.port, acct.login, acct.smpp_password, reconnect=False)
            await c.start()
            await c.wait_bound(T)
            clients.append(c)
        assert await bind_status(door.port, acct.login, acct.smpp_password) == S.ESME_RBINDFAIL
    finally:
        for c in clients:
            await asyncio.wait_for(c.close(1.0), T)
    # Once the others are gone there is room again.
    assert await bind_status(door.port, acct.login, acct.smpp_password) == 0


# --- submit_sm --------------------------------------------------------------------------------


async def test_submit_answers_the_numeric_id_the_json_api_knows(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    async with customer(door.port, acct) as c:
        resp = await submit(c, sms())
    assert isinstance(resp, SubmitSmResp) and resp.command_status == 0
    assert resp.message_id.isdigit()
    assert await json_status(stack, acct, [resp.message_id]) == {resp.message_id: "ENROUTE"}


async def test_statuses_agree_across_doors_once_final(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    async with customer(door.port, acct) as c:
        resp = await submit(c, sms(to="380501230001"))
        await make_final(stack, PartState.UNDELIV, 34)
        query = await submit(c, QuerySm(message_id=resp.message_id, source_addr="Shop"))
    assert isinstance(resp, SubmitSmResp) and isinstance(query, QuerySmResp)
    assert await json_status(stack, acct, [resp.message_id]) == {resp.message_id: "UNDELIV"}
    assert query.message_state == MessageState.UNDELIVERABLE
    assert query.error_code == 34
    assert len(query.final_date) == 16 and query.final_date.endswith("+")


async def test_sender_that_is_not_an_originator_is_rinvsrcadr(
    door: SmppDoor, acct: TestAccount
) -> None:
    async with customer(door.port, acct) as c:
        resp = await submit(c, sms(sender="Nobody"))
    assert resp.command_status == S.ESME_RINVSRCADR


async def test_bad_number_is_rinvdstadr(door: SmppDoor, acct: TestAccount) -> None:
    async with customer(door.port, acct) as c:
        resp = await submit(c, sms(to="12"))
    assert resp.command_status == S.ESME_RINVDSTADR


async def test_rate_limit_is_rthrottled(stack: Stack, door: SmppDoor) -> None:
    slow = await stack.account("slow", rate_limit=1)
    async with customer(door.port, slow) as c:
        answers = [await submit(c, sms(f"n{i}")) for i in range(3)]
    assert answers[0].command_status == 0
    assert S.ESME_RTHROTTLED in [a.command_status for a in answers[1:]]


async def test_no_money_is_rsubmitfail_not_a_silent_drop(stack: Stack, door: SmppDoor) -> None:
    poor = await stack.account("poor", balance=0)
    async with customer(door.port, poor) as c:
        resp = await submit(c, sms())
    assert resp.command_status == S.ESME_RSUBMITFAIL
    assert await claimed(stack) == []


async def test_duplicate_within_two_minutes_is_rsubmitfail(
    door: SmppDoor, acct: TestAccount
) -> None:
    async with customer(door.port, acct) as c:
        first = await submit(c, sms("same text"))
        again = await submit(c, sms("same text"))
    assert first.command_status == 0
    assert again.command_status == S.ESME_RSUBMITFAIL


async def test_empty_text_is_rinvmsglen(door: SmppDoor, acct: TestAccount) -> None:
    async with customer(door.port, acct) as c:
        resp = await submit(c, sms(""))
    assert resp.command_status == S.ESME_RINVMSGLEN


async def test_submit_on_a_receiver_bind_is_refused_and_the_session_lives(
    door: SmppDoor, acct: TestAccount
) -> None:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", door.port), T)
    try:
        writer.write(encode(BindReceiver(1, system_id=acct.login, password=acct.smpp_password)))
        assert (await read_pdu(reader)).command_status == 0
        writer.write(encode(SubmitSm(2, source_addr="Shop", destination_addr=PHONE)))
        resp = await read_pdu(reader)
        writer.write(encode(EnquireLink(3)))
        alive = await read_pdu(reader)
    finally:
        writer.close()
    assert resp.command_status == S.ESME_RINVBNDSTS
    assert alive.command_id == CommandId.ENQUIRE_LINK_RESP


@pytest.mark.parametrize(
    ("data_coding", "text", "encoded"),
    [
        (0, "GSM @£ {€} ñ", encode_gsm7("GSM @£ {€} ñ")),
        (8, "Привіт, світ 🙂", "Привіт, світ 🙂".encode("utf-16-be")),
        (3, "Latin-1 café", "Latin-1 café".encode("latin-1")),
        (1, "plain ascii", b"plain ascii"),
    ],
)
async def test_text_is_decoded_by_data_coding(
    stack: Stack,
    door: SmppDoor,
    acct: TestAccount,
    data_coding: int,
    text: str,
    encoded: bytes,
) -> None:
    pdu = sms(data_coding=data_coding)
    pdu.short_message = encoded
    async with customer(door.port, acct) as c:
        resp = await submit(c, pdu)
    assert resp.command_status == 0
    assert text_of(await claimed(stack)) == text


async def test_message_payload_carries_a_long_text_in_one_submit(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    text = "payload " * 40
    pdu = sms("", tlvs={Tag.MESSAGE_PAYLOAD: encode_gsm7(text)})
    async with customer(door.port, acct) as c:
        resp = await submit(c, pdu)
    assert resp.command_status == 0
    parts = await claimed(stack)
    assert len(parts) == 3 and text_of(parts) == text


async def test_data_sm_is_sent_like_submit_sm(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    pdu = DataSm(
        source_addr_ton=5,
        source_addr="Shop",
        destination_addr=PHONE,
        data_coding=8,
        tlvs={Tag.MESSAGE_PAYLOAD: "Дані".encode("utf-16-be")},
    )
    async with customer(door.port, acct) as c:
        resp = await submit(c, pdu)
    assert resp.command_status == 0 and resp.command_id == CommandId.DATA_SM_RESP
    assert text_of(await claimed(stack)) == "Дані"


# --- long messages in parts -------------------------------------------------------------------

LONG = "Part one of the text. " * 7 + "And the end."


def udh_parts(
    text: str, ref: int, sixteen_bit: bool = False, receipt_on: int = 0
) -> list[SubmitSm]:
    chunks = [text[i : i + 150] for i in range(0, len(text), 150)]
    out = []
    for seq, chunk in enumerate(chunks, 1):
        udh = build_concat_udh(ref, len(chunks), seq, sixteen_bit)
        pdu = sms(esm_class=ESM_UDHI, registered_delivery=1 if seq == receipt_on else 0)
        pdu.short_message = udh + encode_gsm7(chunk)
        out.append(pdu)
    return out


def sar_parts(text: str, ref: int) -> list[SubmitSm]:
    chunks = [text[i : i + 150] for i in range(0, len(text), 150)]
    return [
        sms(
            chunk,
            tlvs={
                Tag.SAR_MSG_REF_NUM: ref,
                Tag.SAR_TOTAL_SEGMENTS: len(chunks),
                Tag.SAR_SEGMENT_SEQNUM: seq,
            },
        )
        for seq, chunk in enumerate(chunks, 1)
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda: udh_parts(LONG, 7),
        lambda: udh_parts(LONG, 0x1234, sixteen_bit=True),
        lambda: sar_parts(LONG, 0x4321),
    ],
    ids=["udh-8bit", "udh-16bit", "sar"],
)
async def test_parts_are_joined_into_one_message_each_with_its_own_id(
    stack: Stack, door: SmppDoor, acct: TestAccount, make: object
) -> None:
    pdus: list[SubmitSm] = make()  # type: ignore[operator]
    assert len(pdus) == 2
    async with customer(door.port, acct) as c:
        # The last part first: order of arrival does not matter.
        answers = await asyncio.gather(*(submit(c, p) for p in reversed(pdus)))
        ids = [a.message_id for a in reversed(answers) if isinstance(a, SubmitSmResp)]
        queries = [await submit(c, QuerySm(message_id=i, source_addr="Shop")) for i in ids]
    assert [a.command_status for a in answers] == [0, 0]
    assert len(set(ids)) == 2
    assert all(q.command_status == 0 for q in queries)
    parts = await claimed(stack)
    assert {p.message_id for p in parts} == {int(ids[0])}
    assert text_of(parts) == LONG
    assert await json_status(stack, acct, ids) == dict.fromkeys(ids, "ENROUTE")


async def test_a_customer_with_a_window_of_one_sends_a_long_message_part_by_part(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    """Each part is answered before the next is sent (as clients that wait for every
    submit_sm_resp do): the answers must not wait for the whole message."""
    pdus = udh_parts(LONG * 2, 13)
    assert len(pdus) == 3
    async with customer(door.port, acct) as c:
        answers = [await submit(c, p) for p in pdus]  # one at a time
        ids = [a.message_id for a in answers if isinstance(a, SubmitSmResp)]
        queries = [await submit(c, QuerySm(message_id=i, source_addr="Shop")) for i in ids]
    assert [a.command_status for a in answers] == [0, 0, 0]
    assert len(set(ids)) == 3
    assert all(q.command_status == 0 for q in queries)  # the last answer came once it was sent
    parts = await claimed(stack)
    assert {p.message_id for p in parts} == {int(ids[0])}
    assert text_of(parts) == LONG * 2
    assert await json_status(stack, acct, ids) == dict.fromkeys(ids, "ENROUTE")


async def test_a_part_sent_again_is_answered_with_the_same_id(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    first, second = udh_parts(LONG, 14)
    async with customer(door.port, acct) as c:
        a = await submit(c, first)
        again = await submit(c, first)
        b = await submit(c, second)
    assert isinstance(a, SubmitSmResp) and isinstance(again, SubmitSmResp)
    assert a.message_id == again.message_id
    assert isinstance(b, SubmitSmResp) and b.command_status == 0
    parts = await claimed(stack)
    assert {p.message_id for p in parts} == {int(a.message_id)}
    assert text_of(parts) == LONG


async def test_a_part_with_a_bad_sender_or_number_is_refused_at_once(
    door: SmppDoor, acct: TestAccount
) -> None:
    first, _ = udh_parts(LONG, 15)
    first.source_addr = "Nobody"
    bad_number, _ = udh_parts(LONG, 16)
    bad_number.destination_addr = "12"
    async with customer(door.port, acct) as c:
        assert (await submit(c, first)).command_status == S.ESME_RINVSRCADR
        assert (await submit(c, bad_number)).command_status == S.ESME_RINVDSTADR


async def test_each_part_takes_a_rate_limit_token_and_the_whole_message_none(
    stack: Stack, door: SmppDoor
) -> None:
    """A part is a submit_sm like any other: over the account's limit it is THROTTLED and not
    kept; sent again later it is kept, and the completed message is not limited again."""
    door.handler.held.timeout = 5.0  # the fixture's 0.5 s would give the first part up
    slow = await stack.account("slow", rate_limit=1)
    first, second = udh_parts(LONG, 18)
    async with customer(door.port, slow) as c:
        a = await submit(c, first)
        throttled = await submit(c, second)
        await asyncio.sleep(1.1)
        b = await submit(c, second)
    assert (a.command_status, throttled.command_status) == (0, S.ESME_RTHROTTLED)
    assert b.command_status == 0
    parts = await claimed(stack)
    assert text_of(parts) == LONG


async def test_a_held_part_answers_enroute_before_its_message_is_whole(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    """Waiting for its other parts, a part is ENROUTE to query_sm and /sms/status under the
    id it was answered with, not "not found"; the same id then stays the message's."""
    door.handler.held.timeout = 5.0  # the fixture's 0.5 s would give the first part up
    first, second = udh_parts(LONG, 21)
    async with customer(door.port, acct) as c:
        a = await submit(c, first)
        assert isinstance(a, SubmitSmResp) and a.command_status == 0
        held = await submit(c, QuerySm(message_id=a.message_id, source_addr="Shop"))
        assert await json_status(stack, acct, [a.message_id]) == {a.message_id: "ENROUTE"}
        b = await submit(c, second)
        whole = await submit(c, QuerySm(message_id=a.message_id, source_addr="Shop"))
    assert isinstance(held, QuerySmResp) and held.command_status == 0
    assert (held.message_state, held.final_date) == (MessageState.ENROUTE, "")
    assert isinstance(b, SubmitSmResp) and b.command_status == 0
    assert isinstance(whole, QuerySmResp) and whole.message_state == MessageState.ENROUTE
    assert {p.message_id for p in await claimed(stack)} == {int(a.message_id)}


async def test_query_sm_is_rate_limited_like_a_submit(stack: Stack, door: SmppDoor) -> None:
    slow = await stack.account("slow", rate_limit=1)
    async with customer(door.port, slow) as c:
        sent = await submit(c, sms())
        assert isinstance(sent, SubmitSmResp) and sent.command_status == 0
        await asyncio.sleep(1.05)  # the submit's token back
        query = QuerySm(message_id=sent.message_id, source_addr="Shop")
        answers = [await submit(c, query) for _ in range(3)]
    assert answers[0].command_status == 0
    assert [a.command_status for a in answers[1:]] == [S.ESME_RTHROTTLED] * 2


async def test_a_part_of_more_parts_than_the_gateway_sends_is_refused_at_once(
    door: SmppDoor, acct: TestAccount
) -> None:
    first = sms(esm_class=ESM_UDHI)
    first.short_message = build_concat_udh(19, 11, 1, False) + encode_gsm7("one of eleven")
    async with customer(door.port, acct) as c:
        assert (await submit(c, first)).command_status == S.ESME_RINVMSGLEN


async def test_incomplete_long_message_ends_rejectd_with_a_receipt_after_the_timeout(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    first, _ = udh_parts(LONG, 9, receipt_on=1)
    inbox = Receipts()
    before = await stack.store.balance(acct.record.id)
    async with customer(door.port, acct, receipts=inbox) as c:
        resp = await submit(c, first)
        assert isinstance(resp, SubmitSmResp) and resp.command_status == 0  # answered at once
        (receipt,) = await inbox.wait(1)
        query = await submit(c, QuerySm(message_id=resp.message_id, source_addr="Shop"))
    assert receipt.tlvs[Tag.RECEIPTED_MESSAGE_ID] == resp.message_id
    assert receipt.tlvs[Tag.MESSAGE_STATE] == MessageState.REJECTED
    parsed = parse_receipt(receipt.short_message.decode("ascii"))
    assert (parsed.stat, parsed.err) == ("REJECTD", int(S.ESME_RSUBMITFAIL))
    assert isinstance(query, QuerySmResp) and query.message_state == MessageState.REJECTED
    assert await claimed(stack) == []
    assert await stack.store.balance(acct.record.id) == before
    assert await json_status(stack, acct, [resp.message_id]) == {resp.message_id: "REJECTD"}


async def test_a_long_message_refused_once_whole_gets_rejectd_receipts(
    stack: Stack, door: SmppDoor
) -> None:
    """Money is known only for the whole message: its parts were answered OK, so the refusal
    comes as a REJECTD receipt for each part that asked, and nothing is charged."""
    poor = await stack.account("poor", balance=0)
    pdus = udh_parts(LONG, 17)
    for p in pdus:
        p.registered_delivery = 1
    inbox = Receipts()
    async with customer(door.port, poor, receipts=inbox) as c:
        answers = [await submit(c, p) for p in pdus]
        receipts = await inbox.wait(2)
    ids = [a.message_id for a in answers if isinstance(a, SubmitSmResp)]
    assert [a.command_status for a in answers] == [0, 0]
    assert sorted(r.tlvs[Tag.RECEIPTED_MESSAGE_ID] for r in receipts) == sorted(ids)
    assert {r.tlvs[Tag.MESSAGE_STATE] for r in receipts} == {MessageState.REJECTED}
    assert await claimed(stack) == []
    balance = await stack.store.balance(poor.record.id)
    assert (balance.balance, balance.reserved) == (0, 0)


async def test_a_message_whose_finishing_node_died_is_finished_by_a_sweep(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    """A node that claimed a complete message and died before accepting it: the claim lapses
    and a sweep (any node's) sends the message under the ids its parts were answered with."""
    now = time.time()
    parts = [
        HeldPart(
            900 + seq, acct.record.id, "Shop", PHONE, 5, 2, seq, 0, payload, seq == 2, None, now
        )
        for seq, payload in ((1, encode_gsm7("Half one, ")), (2, encode_gsm7("half two.")))
    ]
    assert (await stack.store.hold_part(parts[0], now, 0.05)).complete == ()
    assert len((await stack.store.hold_part(parts[1], now, 0.05)).complete) == 2
    await door.handler.held.sweep_once()  # claimed and not lapsed yet: left alone
    assert await claimed(stack) == []
    await asyncio.sleep(0.1)
    await door.handler.held.sweep_once()
    await asyncio.sleep(0)
    for _ in range(50):
        found = await claimed(stack)
        if found:
            break
        await asyncio.sleep(0.05)
    assert {p.message_id for p in found} == {901}
    assert text_of(found) == "Half one, half two."
    assert await json_status(stack, acct, ["901", "902"]) == {"901": "ENROUTE", "902": "ENROUTE"}
    # a second finisher (the dead node coming back, say) finds the parts gone: nothing doubles
    await door.handler.held._finish(acct.record, parts)
    assert await claimed(stack) == []
    assert await json_status(stack, acct, ["901"]) == {"901": "ENROUTE"}
    assert await stack.store.outbox_pending(acct.record.id, 10) == []  # and no refusal


# --- validity_period --------------------------------------------------------------------------


async def test_validity_period_sets_the_messages_lifetime(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    soon = sms("relative", validity_period="000000013000000R")  # 1 h 30 min from now
    at = format_absolute(time.time() + 600)  # absolute, 10 min from now
    later = sms("absolute", to="380501234568", validity_period=at)
    long_parts = udh_parts(LONG, 21)
    long_parts[0].validity_period = "000000002000000R"  # the first part speaks for all
    data = DataSm(
        source_addr="Shop",
        destination_addr="380501234569",
        tlvs={Tag.MESSAGE_PAYLOAD: b"ttl", Tag.QOS_TIME_TO_LIVE: 300},
    )
    async with customer(door.port, acct) as c:
        started = time.time()
        answers = [await submit(c, soon), await submit(c, later), await submit(c, data)]
        answers += await asyncio.gather(*(submit(c, p) for p in long_parts))
    assert [a.command_status for a in answers] == [0] * 5
    lifetimes = {p.message_id: p.expires_at - started for p in await claimed(stack)}
    ids = [int(a.message_id) for a in answers[:4]]  # type: ignore[attr-defined]
    assert lifetimes[ids[0]] == pytest.approx(90 * 60, abs=2)
    assert lifetimes[ids[1]] == pytest.approx(600, abs=2)
    assert lifetimes[ids[2]] == pytest.approx(300, abs=2)
    assert lifetimes[ids[3]] == pytest.approx(20 * 60, abs=2)


@pytest.mark.parametrize(
    "validity",
    ["240501130000000X", "2405011300", "241301130000000+", "000000000000000R", "past"],
)
async def test_bad_or_past_validity_period_is_rinvexpiry(
    stack: Stack, door: SmppDoor, acct: TestAccount, validity: str
) -> None:
    if validity == "past":
        validity = format_absolute(time.time() - 60)
    async with customer(door.port, acct) as c:
        single = await submit(c, sms(validity_period=validity))
        multi = await submit(
            c,
            SubmitMulti(
                source_addr="Shop",
                dest_addresses=[DestAddress(destination_addr=PHONE)],
                short_message=b"to many",
                validity_period=validity,
            ),
        )
    assert single.command_status == S.ESME_RINVEXPIRY
    assert multi.command_status == S.ESME_RINVEXPIRY
    assert await claimed(stack) == []


# --- submit_multi -----------------------------------------------------------------------------


async def test_submit_multi_lists_the_rejected_destinations(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    pdu = SubmitMulti(
        source_addr_ton=5,
        source_addr="Shop",
        dest_addresses=[
            DestAddress(1, 1, "380501111111"),
            DestAddress(1, 1, "12"),
            DestAddress(1, 1, "380502222222"),
        ],
        short_message=encode_gsm7("To many"),
    )
    async with customer(door.port, acct) as c:
        resp = await submit(c, pdu)
    assert isinstance(resp, SubmitMultiResp) and resp.command_status == 0
    assert [(u.destination_addr, u.error_status_code) for u in resp.unsuccess_smes] == [
        ("12", S.ESME_RINVDSTADR)
    ]
    assert {p.phone for p in await claimed(stack)} == {"380501111111", "380502222222"}
    assert (await json_status(stack, acct, [resp.message_id]))[resp.message_id] == "ENROUTE"


async def test_submit_multi_refuses_a_part_of_a_long_message_and_takes_message_payload(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    """A part (UDH or SAR) of a long text to many is refused, never sent as a text of its
    own; the whole text in message_payload goes through as one message per destination."""
    dests = [DestAddress(1, 1, "380501111111"), DestAddress(1, 1, "380502222222")]
    udh_part = SubmitMulti(
        source_addr_ton=5,
        source_addr="Shop",
        dest_addresses=dests,
        esm_class=ESM_UDHI,
        short_message=build_concat_udh(3, 2, 1, False) + encode_gsm7("first half"),
    )
    sar_part = SubmitMulti(
        source_addr_ton=5,
        source_addr="Shop",
        dest_addresses=dests,
        short_message=encode_gsm7("first half"),
        tlvs={Tag.SAR_MSG_REF_NUM: 4, Tag.SAR_TOTAL_SEGMENTS: 2, Tag.SAR_SEGMENT_SEQNUM: 1},
    )
    whole = SubmitMulti(
        source_addr_ton=5,
        source_addr="Shop",
        dest_addresses=dests,
        tlvs={Tag.MESSAGE_PAYLOAD: encode_gsm7(LONG)},
    )
    async with customer(door.port, acct) as c:
        refused = [await submit(c, udh_part), await submit(c, sar_part)]
        accepted = await submit(c, whole)
    assert [r.command_status for r in refused] == [S.ESME_RINVESMCLASS, S.ESME_RINVOPTPARAMVAL]
    assert accepted.command_status == 0
    parts = await claimed(stack)
    assert {p.phone for p in parts} == {"380501111111", "380502222222"}
    for phone in ("380501111111", "380502222222"):
        assert text_of([p for p in parts if p.phone == phone]) == LONG


# --- query_sm and cancel_sm -------------------------------------------------------------------


async def test_query_of_unknown_or_foreign_ids_fails_alike(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    bob = await stack.account("bob")
    async with customer(door.port, bob) as c:
        theirs = await submit(c, sms())
    async with customer(door.port, acct) as c:
        foreign = await submit(c, QuerySm(message_id=theirs.message_id, source_addr="Shop"))  # type: ignore[attr-defined]
        unknown = await submit(c, QuerySm(message_id="123", source_addr="Shop"))
        garbage = await submit(c, QuerySm(message_id="abc", source_addr="Shop"))
    assert {foreign.command_status, unknown.command_status, garbage.command_status} == {
        S.ESME_RQUERYFAIL
    }


async def test_query_of_a_queued_message_is_enroute(door: SmppDoor, acct: TestAccount) -> None:
    async with customer(door.port, acct) as c:
        resp = await submit(c, sms())
        query = await submit(c, QuerySm(message_id=resp.message_id, source_addr="Shop"))  # type: ignore[attr-defined]
    assert isinstance(query, QuerySmResp) and query.command_status == 0
    assert query.message_state == MessageState.ENROUTE and query.final_date == ""


async def test_cancel_of_a_queued_message_succeeds_once(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    async with customer(door.port, acct) as c:
        resp = await submit(c, sms())
        mid = resp.message_id  # type: ignore[attr-defined]
        cancel = await submit(c, CancelSm(message_id=mid, source_addr="Shop"))
        again = await submit(c, CancelSm(message_id=mid, source_addr="Shop"))
        unknown = await submit(c, CancelSm(message_id="42", source_addr="Shop"))
    assert cancel.command_status == 0
    assert again.command_status == S.ESME_RCANCELFAIL
    assert unknown.command_status == S.ESME_RCANCELFAIL
    assert await json_status(stack, acct, [mid]) == {mid: "REJECTD"}


# --- malformed input --------------------------------------------------------------------------


async def test_garbage_gets_generic_nack_and_the_door_keeps_serving(
    door: SmppDoor, acct: TestAccount
) -> None:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", door.port), T)
    try:
        writer.write(encode(BindTransceiver(1, system_id=acct.login, password=acct.smpp_password)))
        assert (await read_pdu(reader)).command_status == 0
        # An unknown command id: nacked, and the same session answers the next request.
        writer.write(struct.pack("!IIII", 16, 0x0000_0777, 0, 2))
        nack = await read_pdu(reader)
        assert isinstance(nack, GenericNack) and nack.sequence_number == 2
        writer.write(encode(EnquireLink(3)))
        assert (await read_pdu(reader)).command_id == CommandId.ENQUIRE_LINK_RESP
        # A lying command_length (shorter than a header) cannot be framed: nacked.
        writer.write(struct.pack("!IIII", 8, CommandId.SUBMIT_SM, 0, 4) + b"\xff" * 20)
        assert isinstance(await read_pdu(reader), GenericNack)
    finally:
        writer.close()
    async with customer(door.port, acct) as c:
        assert (await submit(c, sms("still serving"))).command_status == 0


# --- receipts ---------------------------------------------------------------------------------


async def test_receipt_names_the_pdu_id_after_the_message_is_final(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    inbox = Receipts()
    async with customer(door.port, acct, receipts=inbox) as c:
        resp = await submit(c, sms("Hello receipt", registered_delivery=1))
        mid = resp.message_id  # type: ignore[attr-defined]
        await asyncio.sleep(0.15)
        assert inbox.pdus == []  # not final yet: nothing to tell
        await make_final(stack, PartState.UNDELIV, 5)
        (receipt,) = await inbox.wait(1)
    assert isinstance(receipt, DeliverSm)
    assert receipt.esm_class == ESM_DELIVERY_RECEIPT
    assert (receipt.source_addr, receipt.destination_addr) == (PHONE, "Shop")
    assert receipt.tlvs[Tag.RECEIPTED_MESSAGE_ID] == mid
    assert receipt.tlvs[Tag.MESSAGE_STATE] == MessageState.UNDELIVERABLE
    net = receipt.tlvs[Tag.NETWORK_ERROR_CODE]
    assert getattr(net, "error_code", None) == 5
    parsed = parse_receipt(receipt.short_message.decode("ascii"))
    assert (parsed.id, parsed.stat, parsed.err) == (mid, "UNDELIV", 5)
    assert parsed.text == "Hello receipt"


async def test_no_receipt_unless_asked(stack: Stack, door: SmppDoor, acct: TestAccount) -> None:
    inbox = Receipts()
    async with customer(door.port, acct, receipts=inbox) as c:
        await submit(c, sms())
        await make_final(stack)
        await asyncio.sleep(0.3)
    assert inbox.pdus == []


async def test_long_message_receipt_names_the_part_that_asked(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    inbox = Receipts()
    pdus = udh_parts(LONG, 11, receipt_on=2)
    async with customer(door.port, acct, receipts=inbox) as c:
        answers = await asyncio.gather(*(submit(c, p) for p in pdus))
        await make_final(stack)
        (receipt,) = await inbox.wait(1)
    assert receipt.tlvs[Tag.RECEIPTED_MESSAGE_ID] == answers[1].message_id  # type: ignore[attr-defined]
    assert receipt.tlvs[Tag.MESSAGE_STATE] == MessageState.DELIVERED


async def submit_asking_receipts(client: SmppClient, count: int) -> list[str]:
    """`count` distinct messages that ask for a receipt; their submit_sm_resp ids."""
    answers = [
        await submit(client, sms(f"number {i}", registered_delivery=1)) for i in range(count)
    ]
    return [a.message_id for a in answers]  # type: ignore[attr-defined]


async def receive_every_receipt(
    stack: Stack, port: int, acct: TestAccount, count: int
) -> list[DeliverSm | DataSm]:
    """Bind a receiver until `count` receipts came and their rows were marked done."""
    inbox = Receipts()
    async with customer(port, acct, BindType.RECEIVER, receipts=inbox):
        got = await inbox.wait(count)
        # Rows are marked done after each deliver_sm_resp; the last may still be committing.
        for _ in range(50):
            if await stack.store.outbox_pending(acct.record.id, 10) == []:
                break
            await asyncio.sleep(0.05)
    return got


async def test_receipts_wait_for_a_receiver_and_come_in_order(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    async with customer(door.port, acct, BindType.TRANSMITTER) as c:
        ids = await submit_asking_receipts(c, 5)
        await make_final(stack)
        await asyncio.sleep(0.3)  # nobody can take them yet
    got = await receive_every_receipt(stack, door.port, acct, 5)
    assert [p.tlvs[Tag.RECEIPTED_MESSAGE_ID] for p in got] == ids
    assert await stack.store.outbox_pending(acct.record.id, 10) == []


async def test_receipts_built_a_few_per_loop_turn_still_come_in_order(
    stack: Stack, acct: TestAccount
) -> None:
    # The pump builds a batch a chunk per loop turn, so that submits are answered between
    # chunks; the receipts must still go out in order and all be marked done.
    door = SmppDoor(
        stack.gateway,
        SmppDoorSettings(host="127.0.0.1", port=0),
        pump_policy=PumpPolicy(interval=0.05, retry_after=0.1),
        receipt_chunk=2,
    )
    await asyncio.wait_for(door.start(), T)
    try:
        async with customer(door.port, acct, BindType.TRANSMITTER) as c:
            ids = await submit_asking_receipts(c, 7)
        await make_final(stack)
        got = await receive_every_receipt(stack, door.port, acct, 7)
    finally:
        await asyncio.wait_for(door.stop(), T)
    assert [p.tlvs[Tag.RECEIPTED_MESSAGE_ID] for p in got] == ids
    assert await stack.store.outbox_pending(acct.record.id, 10) == []


async def test_receipts_wait_durably_across_a_door_restart(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    async with customer(door.port, acct, BindType.TRANSMITTER) as c:
        resp = await submit(c, sms(registered_delivery=1))
    await make_final(stack, PartState.EXPIRED)
    await asyncio.wait_for(door.stop(), T)
    assert len(await stack.store.outbox_pending(acct.record.id, 10)) == 1

    again = SmppDoor(stack.gateway, SmppDoorSettings(host="127.0.0.1", port=0))
    await asyncio.wait_for(again.start(), T)
    try:
        inbox = Receipts()
        async with customer(again.port, acct, BindType.TRANSCEIVER, receipts=inbox):
            (receipt,) = await inbox.wait(1)
    finally:
        await asyncio.wait_for(again.stop(), T)
    assert receipt.tlvs[Tag.RECEIPTED_MESSAGE_ID] == resp.message_id  # type: ignore[attr-defined]
    assert receipt.tlvs[Tag.MESSAGE_STATE] == MessageState.EXPIRED
    await asyncio.wait_for(door.start(), T)  # the fixture stops it once more


async def test_refused_receipt_stays_pending_and_is_retried(
    stack: Stack, door: SmppDoor, acct: TestAccount
) -> None:
    answers = [S.ESME_RX_T_APPN, S.ESME_ROK]
    seen: list[DeliverSm | DataSm] = []

    def picky(pdu: DeliverSm | DataSm) -> int:
        seen.append(pdu)
        return int(answers.pop(0)) if answers else 0

    client = SmppClient(
        "127.0.0.1", door.port, acct.login, acct.smpp_password, reconnect=False, on_deliver=picky
    )
    await client.start()
    try:
        await client.wait_bound(T)
        await submit(client, sms(registered_delivery=1))
        await make_final(stack)
        async with asyncio.timeout(T):
            while await stack.store.outbox_pending(acct.record.id, 10):
                await asyncio.sleep(0.05)
    finally:
        await asyncio.wait_for(client.close(1.0), T)
    assert len(seen) == 2


@pytest.mark.parametrize(
    ("refusal", "attempts"), [(S.ESME_RX_T_APPN, 5), (S.ESME_RX_P_APPN, 1)], ids=["temp", "perm"]
)
async def test_a_receipt_always_refused_is_given_up_and_the_next_ones_flow(
    stack: Stack, door: SmppDoor, acct: TestAccount, refusal: int, attempts: int
) -> None:
    seen: list[str] = []
    refused_id: list[str] = []

    def picky(pdu: DeliverSm | DataSm) -> int:
        rid = str(pdu.tlvs[Tag.RECEIPTED_MESSAGE_ID])
        seen.append(rid)
        return refusal if rid in refused_id else 0

    client = SmppClient(
        "127.0.0.1", door.port, acct.login, acct.smpp_password, reconnect=False, on_deliver=picky
    )
    await client.start()
    try:
        await client.wait_bound(T)
        first = await submit(client, sms("never taken", registered_delivery=1))
        refused_id.append(first.message_id)  # type: ignore[attr-defined]
        await make_final(stack)
        async with asyncio.timeout(T):
            while await stack.store.outbox_pending(acct.record.id, 10):
                await asyncio.sleep(0.05)
        second = await submit(client, sms("taken", registered_delivery=1))
        await make_final(stack)
        # The pump counts a delivery once its row is marked done, after the customer's answer
        # and a commit: seeing the receipt here comes first.
        async with asyncio.timeout(T):
            while second.message_id not in seen or not door.handler.receipts.delivered:  # type: ignore[attr-defined]
                await asyncio.sleep(0.02)
    finally:
        await asyncio.wait_for(client.close(1.0), T)
    assert seen == [refused_id[0]] * attempts + [second.message_id]  # type: ignore[attr-defined]
    assert door.handler.receipts.given_up == 1
    assert door.handler.receipts.delivered == 1


# --- TLS --------------------------------------------------------------------------------------


async def test_tls_port_serves_the_same_door(
    stack: Stack, tmp_path: Path, acct: TestAccount
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    settings = SmppDoorSettings(
        host="127.0.0.1", port=0, tls_port=0, tls_cert=str(cert), tls_key=str(key)
    )
    tls_door = SmppDoor(stack.gateway, settings)
    await asyncio.wait_for(tls_door.start(), T)
    try:
        assert tls_door.tls_port is not None and tls_door.tls_port != tls_door.port
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        async with customer(tls_door.tls_port, acct, tls=context) as c:
            resp = await submit(c, sms("over TLS"))
    finally:
        await asyncio.wait_for(tls_door.stop(), T)
    assert resp.command_status == 0
