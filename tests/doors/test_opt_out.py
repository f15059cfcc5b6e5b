"""A recipient on the account's suppression list (it sent STOP, or the admin put it there) is
refused on every door (JSON, HTTP, XML, native API, SMPP) with the reason "Recipient opted
out", while the request's other recipients go through; taken off the list (START), it is
accepted again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
import test_http_gateway as http_door  # the door tests' own request helpers
import test_json_api as json_door
import test_xml_gateway as xml_door

from smsgate.config import SmppDoorSettings
from smsgate.doors.smpp.door import SmppDoor
from smsgate.smpp.client import BindType, SmppClient
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.pdu import SubmitSm

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

OPTED_OUT = "380671112233"
OTHER = "380501234567"
T = 5.0


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    account = await stack.account("alice")
    await stack.store.suppress(account.record.id, OPTED_OUT, "sms", time.time())
    return account


async def test_json_door_names_the_opted_out_recipient_in_add_info(
    stack: Stack, acct: TestAccount
) -> None:
    r = await json_door.post(
        stack,
        "/sms/send",
        acct,
        {"phone": [OTHER, OPTED_OUT], "message": "Hi", "src_addr": "Shop"},
    )
    body = r.json()["success_request"]
    assert list(body["info"].values()) == [OTHER]
    assert body["add_info"] == {OPTED_OUT: "Recipient opted out"}


async def test_http_gateway_says_why_nothing_was_sent(stack: Stack, acct: TestAccount) -> None:
    fields = {**http_door.credentials(acct, "/token/"), "from": "Shop", "to": OPTED_OUT}
    r = await http_door.get(stack, "/token/", {**fields, "text": "Hi"})
    assert http_door.assert_error(r) == "No message sent: Recipient opted out"
    both = await http_door.get(
        stack, "/token/", {**fields, "to": f"{OPTED_OUT};{OTHER}", "text": "Hi"}
    )
    assert len(http_door.ids_of(both.text)) == 1


async def test_xml_gateway_says_why_nothing_was_sent(stack: Stack, acct: TestAccount) -> None:
    body = f"<from>Shop</from><to>{OPTED_OUT}</to><text>Hi</text>"
    r = await xml_door.post(stack, "/xml/", xml_door.sendsms(acct, body))
    assert xml_door.error_of(r) == "No message sent: Recipient opted out"


async def test_native_api_lists_the_opted_out_recipient_as_rejected_with_the_reason(
    stack: Stack, acct: TestAccount
) -> None:
    r = await stack.client.post(
        "/api/v1/messages",
        headers=acct.auth,
        json={"sender": "Shop", "to": [OTHER, OPTED_OUT], "text": "Hi"},
    )
    assert r.status_code == 201, r.text
    answer = r.json()
    assert [m["to"] for m in answer["messages"]] == [OTHER]
    assert answer["rejected"] == [
        {"to": OPTED_OUT, "client_ref": None, "reason": "Recipient opted out", "code": "opted_out"}
    ]


@pytest.fixture
async def door(stack: Stack) -> AsyncIterator[SmppDoor]:
    d = SmppDoor(stack.gateway, SmppDoorSettings(host="127.0.0.1", port=0))
    await asyncio.wait_for(d.start(), T)
    try:
        yield d
    finally:
        await asyncio.wait_for(d.stop(), T)


def _submit(phone: str) -> SubmitSm:
    return SubmitSm(
        source_addr="Shop", source_addr_ton=5, destination_addr=phone, short_message=b"Hi"
    )


async def test_smpp_door_answers_a_permanent_application_error(
    stack: Stack, acct: TestAccount, door: SmppDoor
) -> None:
    client = SmppClient(
        "127.0.0.1",
        door.port,
        acct.login,
        acct.smpp_password,
        BindType.TRANSMITTER,
        reconnect=False,
        response_timeout=T,
    )
    await client.start()
    try:
        await client.wait_bound(T)
        refused = await asyncio.wait_for(client.submit(_submit(OPTED_OUT)), T)
        assert refused.command_status == CommandStatus.ESME_RX_P_APPN
        accepted = await asyncio.wait_for(client.submit(_submit(OTHER)), T)
        assert accepted.command_status == CommandStatus.ESME_ROK
    finally:
        await asyncio.wait_for(client.close(1.0), T)


async def test_taken_off_the_list_the_number_is_accepted_again(
    stack: Stack, acct: TestAccount
) -> None:
    assert await stack.store.unsuppress(acct.record.id, OPTED_OUT)
    stack.gateway.submitter.suppressions_changed()  # what a node does when it stores START
    r = await json_door.post(
        stack, "/sms/send", acct, {"phone": [OPTED_OUT], "message": "Hi", "src_addr": "Shop"}
    )
    assert list(r.json()["success_request"]["info"].values()) == [OPTED_OUT]
