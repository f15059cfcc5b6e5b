"""Message ids at the doors: new ones fit in 2^53 - 1 (a JavaScript client keeps them exact),
and 18-digit ids minted by the earlier 63-bit layout and already stored still answer status
queries at every door."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import TYPE_CHECKING

import pytest

from smsgate.config import SmppDoorSettings
from smsgate.domain.ids import MAX_ID, IdGenerator
from smsgate.doors.smpp.door import SmppDoor
from smsgate.gateway.accounts import AccountCache
from smsgate.gateway.send_request import SendItem, SendRequest
from smsgate.gateway.submit import Submitter
from smsgate.smpp.client import SmppClient
from smsgate.smpp.constants import MessageState
from smsgate.smpp.pdu import QuerySm, QuerySmResp

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

PHONE = "380501234567"
T = 5.0


class EarlierLayoutIds(IdGenerator):
    """Ids as the earlier layout minted them: milliseconds since 2026-01-01 << 22 | node << 12
    | sequence, 18 digits in December 2026."""

    def __init__(self) -> None:
        super().__init__(1)
        self._next = (int(time.time() * 1000) - 1_767_225_600_000) << 22 | 1 << 12

    def next_many(self, n: int) -> list[int]:
        first = self._next
        self._next += n
        return list(range(first, first + n))


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("alice")


async def stored_with_an_earlier_id(stack: Stack, acct: TestAccount) -> str:
    earlier = Submitter(stack.store, AccountCache(stack.store, ttl=0.0), EarlierLayoutIds())
    request = SendRequest(sender=acct.sender, items=[SendItem(PHONE, "Hi")], door="json")
    outcome = await earlier.send(acct.record, request)
    (message_id, _), *_ = outcome.accepted
    assert len(str(message_id)) == 18 and message_id > MAX_ID
    return str(message_id)


async def test_new_ids_fit_in_2_to_the_53_and_read_exactly_as_json_numbers(
    stack: Stack, acct: TestAccount
) -> None:
    r = await stack.client.post(
        "/sms/send",
        json={"phone": [PHONE, "380671234567"], "message": "Hi", "src_addr": acct.sender},
        headers=acct.auth,
    )
    ids = list(r.json()["success_request"]["info"])
    assert len(ids) == 2
    for given in ids:
        assert 0 < int(given) <= MAX_ID
        assert int(float(given)) == int(given)  # what a client parsing doubles reads
    r = await stack.client.post(
        "/sms/status", json={"id_sms": [int(i) for i in ids]}, headers=acct.auth
    )
    assert r.json()["success_request"]["info"] == dict.fromkeys(ids, "ENROUTE")


async def test_an_earlier_18_digit_id_answers_at_the_json_door(
    stack: Stack, acct: TestAccount
) -> None:
    old = await stored_with_an_earlier_id(stack, acct)
    r = await stack.client.post("/sms/status", json={"id_sms": [old]}, headers=acct.auth)
    assert r.json() == {"success_request": {"info": {old: "ENROUTE"}}}
    # Given as a JSON integer, as a client that parsed it as a 64-bit integer sends it back.
    raw = json.dumps({"id_sms": [int(old)]})
    r = await stack.client.post("/sms/status", content=raw, headers=acct.auth)
    assert r.json() == {"success_request": {"info": {old: "ENROUTE"}}}


async def test_an_earlier_18_digit_id_answers_at_the_http_gateway(
    stack: Stack, acct: TestAccount
) -> None:
    old = await stored_with_an_earlier_id(stack, acct)
    r = await stack.client.get(
        "/token/state.php",
        params={"username": acct.login, "token": acct.token, "smscid": old},
    )
    assert r.text == f"=IDS START=<br/>{old}: ENROUTE<br/>=IDS END=<br/>"


async def test_an_earlier_18_digit_id_answers_at_the_xml_gateway(
    stack: Stack, acct: TestAccount
) -> None:
    old = await stored_with_an_earlier_id(stack, acct)
    body = (
        f"<request_getstate><username>{acct.login}</username>"
        f"<password>{acct.password}</password><smscid>{old}</smscid></request_getstate>"
    )
    r = await stack.client.post("/xml/state.php", content=body.encode())
    assert re.search(f"<entry><smscid>{old}</smscid><state>ENROUTE</state></entry>", r.text)


async def test_an_earlier_18_digit_id_answers_query_sm_at_the_smpp_door(
    stack: Stack, acct: TestAccount
) -> None:
    old = await stored_with_an_earlier_id(stack, acct)
    door = SmppDoor(stack.gateway, SmppDoorSettings(host="127.0.0.1", port=0))
    await asyncio.wait_for(door.start(), T)
    client = SmppClient(
        "127.0.0.1", door.port, acct.login, acct.smpp_password, reconnect=False, response_timeout=T
    )
    try:
        await client.start()
        await client.wait_bound(T)
        resp = await asyncio.wait_for(
            client.request(QuerySm(message_id=old, source_addr=acct.sender)), T
        )
    finally:
        await asyncio.wait_for(client.close(1.0), T)
        await asyncio.wait_for(door.stop(), T)
    assert isinstance(resp, QuerySmResp) and resp.command_status == 0
    assert resp.message_id == old and resp.message_state == MessageState.ENROUTE
