"""A refused request is a request: it spends the account's rate-limit token on every door,
whether the door refused it (a field it could not read) or the gateway did (an unknown sender,
more than 100 ids), and exactly once. The account here earns one token per 100 s, so the first
request spends the only token and the second is over the limit whatever the machine's speed:
a request that spent none would let the second through, one that spent two would make the
first a 429."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import orjson
import pytest

from smsgate.config import SmppDoorSettings
from smsgate.domain.gsm7 import encode_gsm7
from smsgate.doors.smpp.door import SmppDoor
from smsgate.smpp.client import BindType, SmppClient
from smsgate.smpp.constants import ESM_UDHI, CommandStatus, Tag
from smsgate.smpp.pdu import (
    BindTransceiver,
    DataSm,
    DestAddress,
    GenericNack,
    Pdu,
    ReplaceSm,
    SubmitMulti,
    SubmitSm,
    SubmitSmResp,
    decode,
    encode,
)
from smsgate.smpp.udh import build_concat_udh

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

S = CommandStatus
PHONE = "380501234567"
ONE_TOKEN_PER_100_S = 0.01
T = 5.0  # every SMPP await is bounded by this
BIND = 30.0  # the bind checks a scrypt hash: slow on a loaded machine, never the point
TOO_MANY = {
    "name": "Too Many Requests",
    "message": "Rate limit exceeded.",
    "code": 0,
    "status": 429,
}


@pytest.fixture
async def slow(stack: Stack) -> TestAccount:
    return await stack.account("slow", rate_limit=ONE_TOKEN_PER_100_S)


SEND = {"phone": [PHONE], "message": "Hi", "src_addr": "Shop"}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/sms/send", {}, "phone"),  # the door's own refusal
        ("/sms/send", {**SEND, "lifetime": -1}, "lifetime"),
        ("/sms/send", b"{not json", "request"),
        ("/sms/send", {**SEND, "src_addr": "Nobody"}, "src_addr"),  # the gateway's refusal
        ("/v2/sms/send", {"data_message": []}, "data_message"),
        ("/sms/status", {}, "id_sms"),
        ("/sms/status", {"id_sms": [str(n) for n in range(1, 102)]}, "id_sms"),  # the gateway's
    ],
)
async def test_a_refused_json_request_spends_one_token(
    stack: Stack, slow: TestAccount, path: str, body: object, field: str
) -> None:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    headers = {**slow.auth, "Content-Type": "application/json"}
    first = await stack.client.post(path, headers=headers, content=content)
    again = await stack.client.post(path, headers=headers, content=content)
    assert first.status_code == 400
    assert list(first.json()["success_request"]["add_info"]) == [field]
    assert again.status_code == 429 and again.json() == TOO_MANY
    assert int(again.headers["retry-after"]) >= 1


async def test_after_a_refused_request_a_query_is_over_the_limit(
    stack: Stack, slow: TestAccount
) -> None:
    refused = await stack.client.post("/sms/send", headers=slow.auth, json={})
    balance = await stack.client.post("/sms/balance", headers=slow.auth)
    assert (refused.status_code, balance.status_code) == (400, 429)


async def test_an_unlimited_account_is_never_limited_for_refusals(
    stack: Stack, slow: TestAccount
) -> None:
    free = await stack.account("free")  # rate_limit 0: no limit
    codes = {(await stack.client.post("/sms/send", headers=free.auth, json={})).status_code}
    codes |= {(await stack.client.post("/sms/send", headers=free.auth, json={})).status_code}
    assert codes == {400}


async def test_an_unauthenticated_request_spends_no_account_token(
    stack: Stack, slow: TestAccount
) -> None:
    wrong = await stack.client.post("/sms/balance", headers={"Authorization": "Bearer nope"})
    balance = await stack.client.post("/sms/balance", headers=slow.auth)
    assert (wrong.status_code, balance.status_code) == (401, 200)


def legacy_query(acct: TestAccount, **fields: str) -> dict[str, str]:
    return {"username": acct.login, "token": acct.token, **fields}


LIMITED = "Rate limit exceeded: retry later"


@pytest.mark.parametrize(
    ("path", "fields", "refusal"),
    [
        ("/token/", {"from": "Shop", "text": "Hi"}, "No recipients given (parameter to)"),
        ("/token/", {"from": "Shop", "to": PHONE, "text": "Hi", "lifetime": "x"}, "Lifetime"),
        ("/token/", {"from": "Nobody", "to": PHONE, "text": "Hi"}, "Sender name is not"),
        ("/token/state.php", {}, "No message ids given (parameter smscid)"),
    ],
)
async def test_a_refused_http_gateway_request_spends_one_token(
    stack: Stack, slow: TestAccount, path: str, fields: dict[str, str], refusal: str
) -> None:
    query = legacy_query(slow, **fields)
    first = await stack.client.get(path, params=query)
    again = await stack.client.get(path, params=query)
    assert first.text.startswith(refusal)
    assert again.text == LIMITED and int(again.headers["retry-after"]) >= 1


async def test_after_a_refused_request_the_http_balance_is_limited(
    stack: Stack, slow: TestAccount
) -> None:
    """One bucket for every door: a refused JSON send spent the token a balance needed."""
    await stack.client.post("/sms/send", headers=slow.auth, json={})
    r = await stack.client.get("/token/getbalance.php", params=legacy_query(slow))
    assert r.text == LIMITED


def xml(root: str, acct: TestAccount, children: str) -> bytes:
    auth = f"<username>{acct.login}</username><token>{acct.token}</token>"
    return f"<{root}>{auth}{children}</{root}>".encode()


XML_LIMITED = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    f"<response><status>ERROR</status><text>{LIMITED}</text></response>"
)


@pytest.mark.parametrize(
    ("path", "body", "refusal"),
    [
        (
            "/xml/",
            (
                "request_sendsms",
                f"<from>Shop</from><to>{PHONE}</to><to>{PHONE}</to><text>a</text>"
                "<text>b</text><text>c</text>",
            ),
            "Every &lt;to&gt; needs its own &lt;text&gt;",
        ),
        (
            "/xml/",
            ("request_sendsms", f"<from>Nobody</from><to>{PHONE}</to><text>Hi</text>"),
            "Sender name is not",
        ),
        ("/xml/state.php", ("request_getstate", ""), "No message ids given (element smscid)"),
    ],
)
async def test_a_refused_xml_request_spends_one_token(
    stack: Stack, slow: TestAccount, path: str, body: tuple[str, str], refusal: str
) -> None:
    content = xml(body[0], slow, body[1])
    first = await stack.client.post(path, content=content)
    again = await stack.client.post(path, content=content)
    assert f"<status>ERROR</status><text>{refusal}" in first.text
    assert again.text == XML_LIMITED and int(again.headers["retry-after"]) >= 1


@pytest.fixture
async def door(stack: Stack) -> AsyncIterator[SmppDoor]:
    d = SmppDoor(stack.gateway, SmppDoorSettings(host="127.0.0.1", port=0))
    await asyncio.wait_for(d.start(), T)
    try:
        yield d
    finally:
        await asyncio.wait_for(d.stop(), T)


@asynccontextmanager
async def bound(door: SmppDoor, acct: TestAccount) -> AsyncIterator[SmppClient]:
    client = SmppClient(
        "127.0.0.1",
        door.port,
        acct.login,
        acct.smpp_password,
        BindType.TRANSCEIVER,
        reconnect=False,
        response_timeout=BIND,
    )
    await client.start()
    try:
        await client.wait_bound(BIND)
        yield client
    finally:
        await asyncio.wait_for(client.close(1.0), T)


def sms(sender: str = "Shop", to: str = PHONE, **fields: object) -> SubmitSm:
    return SubmitSm(
        source_addr_ton=5,
        source_addr=sender,
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr=to,
        **{"short_message": encode_gsm7("Hi"), **fields},  # type: ignore[arg-type]
    )


def part(sender: str = "Shop", to: str = PHONE, total: int = 2) -> SubmitSm:
    """The first part of a long message (UDH): checked on its own, then held."""
    pdu = sms(sender, to, esm_class=ESM_UDHI)
    pdu.short_message = build_concat_udh(7, total, 1, False) + encode_gsm7("first half")
    return pdu


def multi(**fields: object) -> SubmitMulti:
    dests = fields.pop("dest_addresses", [DestAddress(1, 1, PHONE)])
    return SubmitMulti(
        source_addr_ton=5,
        source_addr="Shop",
        dest_addresses=dests,  # type: ignore[arg-type]
        short_message=fields.pop("short_message", encode_gsm7("To many")),  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )


LYING_UDH = b"\x07\x00\x03\x01" + encode_gsm7("Hi")  # the UDH says 7 octets, 3 follow
BAD_VALIDITY = "240501130000000X"


async def test_a_refused_submit_sm_spends_one_token(door: SmppDoor, slow: TestAccount) -> None:
    """The gateway's refusal (an unknown sender), as the other doors' tests."""
    async with bound(door, slow) as client:
        first = await asyncio.wait_for(client.request(sms("Nobody")), T)
        again = await asyncio.wait_for(client.request(sms("Nobody")), T)
    assert first.command_status == CommandStatus.ESME_RINVSRCADR
    assert again.command_status == CommandStatus.ESME_RTHROTTLED


@pytest.mark.parametrize(
    ("request_pdu", "refusal"),
    [
        # submit_sm fields the door cannot read (doors/smpp/fields.py)
        (sms(esm_class=ESM_UDHI, short_message=LYING_UDH), S.ESME_RINVESMCLASS),
        (sms(tlvs={Tag.SAR_TOTAL_SEGMENTS: 2}), S.ESME_RMISSINGOPTPARAM),
        (
            sms(
                tlvs={Tag.SAR_MSG_REF_NUM: 1, Tag.SAR_TOTAL_SEGMENTS: 2, Tag.SAR_SEGMENT_SEQNUM: 3}
            ),
            S.ESME_RINVOPTPARAMVAL,
        ),
        (sms(validity_period=BAD_VALIDITY), S.ESME_RINVEXPIRY),
        (
            DataSm(
                source_addr="Shop",
                destination_addr=PHONE,
                esm_class=ESM_UDHI,
                tlvs={Tag.MESSAGE_PAYLOAD: LYING_UDH},
            ),
            S.ESME_RINVESMCLASS,
        ),
        # a part of a long message refused on its first check, before it is held
        (part(sender="Nobody"), S.ESME_RINVSRCADR),
        (part(to="12"), S.ESME_RINVDSTADR),
        (part(total=200), S.ESME_RINVMSGLEN),
        # submit_multi refused by the door before the gateway
        (multi(dest_addresses=[DestAddress(dl_name="list")]), S.ESME_RINVNUMDESTS),
        (multi(esm_class=ESM_UDHI, short_message=LYING_UDH), S.ESME_RINVESMCLASS),
        (
            multi(
                esm_class=ESM_UDHI,
                short_message=build_concat_udh(3, 2, 1, False) + encode_gsm7("first half"),
            ),
            S.ESME_RINVESMCLASS,
        ),
        (
            multi(
                tlvs={Tag.SAR_MSG_REF_NUM: 4, Tag.SAR_TOTAL_SEGMENTS: 2, Tag.SAR_SEGMENT_SEQNUM: 1}
            ),
            S.ESME_RINVOPTPARAMVAL,
        ),
        (multi(validity_period=BAD_VALIDITY), S.ESME_RINVEXPIRY),
        # replace_sm: not a thing this gateway does, but a request of the account
        (ReplaceSm(message_id="1", source_addr="Shop", short_message=b"x"), S.ESME_RREPLACEFAIL),
    ],
    ids=lambda value: value.name if isinstance(value, CommandStatus) else None,
)
async def test_a_request_the_smpp_door_refuses_itself_spends_one_token(
    door: SmppDoor, slow: TestAccount, request_pdu: Pdu, refusal: CommandStatus
) -> None:
    """Refused by the door before the gateway was asked: the first answer is the refusal (so
    it spent no more than the one token), the same request again and then a valid submit are
    throttled (so it spent that token)."""
    async with bound(door, slow) as client:
        first = await asyncio.wait_for(client.request(request_pdu), T)
        again = await asyncio.wait_for(client.request(request_pdu), T)
        valid = await asyncio.wait_for(client.request(sms()), T)
    assert first.command_status == refusal
    assert again.command_status == S.ESME_RTHROTTLED
    assert valid.command_status == S.ESME_RTHROTTLED


async def test_an_unlimited_smpp_account_hears_the_refusal_every_time(
    stack: Stack, door: SmppDoor, slow: TestAccount
) -> None:
    free = await stack.account("free")  # rate_limit 0: no limit
    async with bound(door, free) as client:
        answers = [await asyncio.wait_for(client.request(sms(validity_period=BAD_VALIDITY)), T)]
        answers.append(await asyncio.wait_for(client.request(sms(validity_period=BAD_VALIDITY)), T))
    assert [a.command_status for a in answers] == [S.ESME_RINVEXPIRY] * 2


def sm_length_255(seq: int) -> bytes:
    """A submit_sm whose sm_length (255) is past the 254 the codec reads."""
    good = encode(sms(sequence_number=seq, short_message=b"A" * 254))
    at = len(good) - 255  # sm_length, right before the 254 octets
    body = good[4:at] + bytes([255]) + b"A" * 255
    return struct.pack("!I", 4 + len(body)) + body


def long_destination(seq: int) -> bytes:
    """A submit_sm whose destination_addr is 21 digits: one past the field's 21 octets."""
    good = encode(sms(to="3" * 20, sequence_number=seq))
    body = good[4:].replace(b"3" * 20 + b"\x00", b"3" * 21 + b"\x00", 1)
    return struct.pack("!I", 4 + len(body)) + body


async def read_pdu(reader: asyncio.StreamReader, timeout: float = T) -> Pdu:
    header = await asyncio.wait_for(reader.readexactly(4), timeout)
    (length,) = struct.unpack("!I", header)
    return decode(header + await asyncio.wait_for(reader.readexactly(length - 4), timeout))


@pytest.mark.parametrize(
    ("unreadable", "refusal"),
    [(sm_length_255, S.ESME_RINVMSGLEN), (long_destination, S.ESME_RINVDSTADR)],
    ids=["sm_length_255", "destination_of_21_digits"],
)
async def test_a_submit_sm_the_codec_cannot_read_spends_one_token(
    door: SmppDoor, slow: TestAccount, unreadable: Callable[[int], bytes], refusal: CommandStatus
) -> None:
    """A field the codec refuses is answered with the codec's status, from the door, as a
    request of the bound account: the same bytes again and a valid submit are throttled."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", door.port), T)
    try:
        writer.write(encode(BindTransceiver(1, system_id=slow.login, password=slow.smpp_password)))
        assert (await read_pdu(reader, BIND)).command_status == 0
        writer.write(unreadable(2))
        first = await read_pdu(reader)
        writer.write(unreadable(3) + encode(sms(sequence_number=4)))
        later = {pdu.sequence_number: pdu for pdu in [await read_pdu(reader) for _ in range(2)]}
    finally:
        writer.close()
    assert isinstance(first, SubmitSmResp) and first.sequence_number == 2
    assert first.command_status == refusal
    assert [later[n].command_status for n in (3, 4)] == [S.ESME_RTHROTTLED] * 2


async def test_an_undecodable_pdu_still_gets_its_generic_nack(
    door: SmppDoor, slow: TestAccount
) -> None:
    """A PDU the codec cannot place (an unknown command_id) is answered generic_nack by the
    session as before, and spends no token: the valid submit after it is accepted."""
    unknown = struct.pack("!IIII", 16, 0x00000077, 0, 2)
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", door.port), T)
    try:
        writer.write(encode(BindTransceiver(1, system_id=slow.login, password=slow.smpp_password)))
        assert (await read_pdu(reader, BIND)).command_status == 0
        writer.write(unknown)
        nack = await read_pdu(reader)
        writer.write(encode(sms(sequence_number=3)))
        sent = await read_pdu(reader)
    finally:
        writer.close()
    assert isinstance(nack, GenericNack) and nack.sequence_number == 2
    assert nack.command_status == S.ESME_RINVCMDID
    assert isinstance(sent, SubmitSmResp) and sent.command_status == 0
