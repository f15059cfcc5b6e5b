"""A message's callback URL on the HTTP doors: the HTTP gateway's dlr_url (with dlr_method and
dlr_level), the JSON API's optional callback_url, the XML gateway's <callback_url> and the
native API's callback_url. A good one is kept with the message and a callback is queued when it
turns final; a bad one is refused at submit in the door's own error format, naming the door's
field and why. The native API's webhook endpoints are refused by the same rules."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import orjson
import pytest

from smsgate.domain.status import PartState
from smsgate.gateway.views import CALLBACKS
from smsgate.store.records import OperatorReceipt, SubmitDone

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

PHONE = "380501234567"
HOOK = "https://example.com/dlr?order=17"
# Not http(s), a loopback or a private address, longer than 2,000 characters: each with the
# words of the reason every door gives.
WHY_REFUSED = {
    "ftp://example.com/dlr": "http:// or https://",
    "http://127.0.0.1:8080/dlr": "127.0.0.1, a loopback address",
    "http://10.1.2.3/dlr": "10.1.2.3, a private address",
    "https://example.com/" + "a" * 2000: "at most 2000",
}
BAD_URLS = list(WHY_REFUSED)


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("hooked")


async def final_callbacks(stack: Stack) -> list[tuple[int, str, str]]:
    """Deliver every queued message; the callbacks then queued: (message id, url, method)."""
    parts = await stack.store.claim_parts(0, time.time() + 1, 100, 60)
    done = [SubmitDone(p.part_id, "op", f"K{p.part_id}", time.time()) for p in parts]
    receipts = [OperatorReceipt("op", d.operator_id, PartState.DELIVRD, 0, d.at) for d in done]
    await stack.store.apply_receipts(receipts, done)
    found = []
    for account in sorted({p.account_id for p in parts}):
        for item in await stack.store.outbox_pending(account, 100, kind=CALLBACKS):
            target = json.loads(item.payload or "")
            found.append((item.message_id, target["url"], target["method"]))
    return found


async def http_send(stack: Stack, acct: TestAccount, **extra: str) -> str:
    fields = {"username": acct.login, "token": acct.token, "from": "Shop", "to": PHONE}
    r = await stack.client.get(f"/token/?{urlencode({**fields, 'text': 'Hi', **extra})}")
    assert r.status_code == 200
    return r.text


async def json_send(stack: Stack, acct: TestAccount, **extra: str) -> dict[str, object]:
    body = {"phone": [PHONE], "message": "Hi", "src_addr": "Shop", **extra}
    headers = {**dict(acct.auth), "Content-Type": "application/json"}
    r = await stack.client.post("/sms/send", headers=headers, content=orjson.dumps(body))
    answer: dict[str, object] = {"status": r.status_code, **r.json()}
    return answer


async def xml_send(stack: Stack, acct: TestAccount, extra: str = "") -> str:
    body = (
        "<?xml version='1.0' encoding='utf-8'?><request_sendsms>"
        f"<username>{acct.login}</username><token>{acct.token}</token>"
        f"<from>Shop</from><to>{PHONE}</to><text>Hi</text>{extra}</request_sendsms>"
    )
    r = await stack.client.post(
        "/xml/", content=body.encode(), headers={"Content-Type": "text/xml"}
    )
    assert r.status_code == 200
    return r.text


async def test_http_dlr_url_is_called_back_with_its_method(stack: Stack, acct: TestAccount) -> None:
    reply = await http_send(stack, acct, dlr_url=HOOK, dlr_method="GET")
    (message_id,) = [int(x) for x in re.findall(r"<br/>(\d+)<br/>", reply)]
    assert await final_callbacks(stack) == [(message_id, HOOK, "GET")]


@pytest.mark.parametrize("url", BAD_URLS)
async def test_http_bad_dlr_url_is_refused_naming_the_parameter(
    stack: Stack, acct: TestAccount, url: str
) -> None:
    reply = await http_send(stack, acct, dlr_url=url)
    assert reply.startswith("Callback URL refused") and reply.endswith("(parameter dlr_url)")
    assert WHY_REFUSED[url] in reply
    assert await final_callbacks(stack) == []


@pytest.mark.parametrize(
    ("extra", "name"),
    [
        ({"dlr_url": HOOK, "dlr_method": "PUT"}, "dlr_method"),
        ({"dlr_level": "2"}, "dlr_url"),
        ({"dlr_url": HOOK, "dlr_level": "32"}, "dlr_level"),
        ({"dlr_url": HOOK, "dlr_level": "0"}, "dlr_level"),
    ],
)
async def test_http_bad_callback_options_name_their_parameter(
    stack: Stack, acct: TestAccount, extra: dict[str, str], name: str
) -> None:
    assert (await http_send(stack, acct, **extra)).endswith(f"(parameter {name})")


async def test_http_dlr_level_is_kannels_dlr_mask(stack: Stack, acct: TestAccount) -> None:
    # 1: delivered only; 2: failures only (so this delivered message is not pushed).
    delivered = await http_send(stack, acct, dlr_url=HOOK, dlr_level="1")
    await http_send(stack, acct, dlr_url=HOOK + "&failures", dlr_level="2", text="Other")
    (message_id,) = [int(x) for x in re.findall(r"<br/>(\d+)<br/>", delivered)]
    assert await final_callbacks(stack) == [(message_id, HOOK, "POST")]


async def test_json_callback_url_is_optional_and_kept(stack: Stack, acct: TestAccount) -> None:
    hooked = await json_send(stack, acct, callback_url=HOOK, callback_events="all")
    (message_id,) = hooked["success_request"]["info"]  # type: ignore[index]
    plain = await json_send(stack, acct, message="no hook")
    # A client that sends no callback_url sees the contract's answer, nothing more.
    assert plain["status"] == 200 and set(plain["success_request"]) == {"info"}  # type: ignore[arg-type]
    assert await final_callbacks(stack) == [(int(message_id), HOOK, "POST")]


async def test_json_callback_events_takes_a_dlr_mask_as_a_number(
    stack: Stack, acct: TestAccount
) -> None:
    failures_only = await json_send(stack, acct, callback_url=HOOK, callback_events=2)  # type: ignore[arg-type]
    assert failures_only["status"] == 200
    assert await final_callbacks(stack) == []  # delivered: not a failure
    answer = await json_send(stack, acct, callback_url=HOOK, callback_events=64, message="x")  # type: ignore[arg-type]
    assert answer["status"] == 400
    assert list(answer["success_request"]["add_info"]) == ["callback_events"]  # type: ignore[index]


@pytest.mark.parametrize("url", [*BAD_URLS, 17])
async def test_json_bad_callback_url_is_400_keyed_by_the_field(
    stack: Stack, acct: TestAccount, url: object
) -> None:
    answer = await json_send(stack, acct, callback_url=url)  # type: ignore[arg-type]
    assert answer["status"] == 400
    refused = answer["success_request"]["add_info"]  # type: ignore[index]
    assert list(refused) == ["callback_url"]
    assert WHY_REFUSED.get(url, "must be a string") in refused["callback_url"]  # type: ignore[call-overload]


async def test_xml_callback_url_element_is_kept(stack: Stack, acct: TestAccount) -> None:
    reply = await xml_send(stack, acct, f"<callback_url><![CDATA[{HOOK}]]></callback_url>")
    (message_id,) = [int(x) for x in re.findall(r"<mess>(\d+)</mess>", reply)]
    assert await final_callbacks(stack) == [(message_id, HOOK, "POST")]


@pytest.mark.parametrize("url", BAD_URLS)
async def test_xml_bad_callback_url_is_an_error_naming_the_element(
    stack: Stack, acct: TestAccount, url: str
) -> None:
    reply = await xml_send(stack, acct, f"<callback_url><![CDATA[{url}]]></callback_url>")
    assert "<status>ERROR</status>" in reply and "(element callback_url)" in reply
    assert WHY_REFUSED[url] in reply
    assert await final_callbacks(stack) == []


@pytest.mark.parametrize("url", BAD_URLS)
async def test_native_bad_callback_url_is_a_problem_naming_the_field_and_why(
    stack: Stack, acct: TestAccount, url: str
) -> None:
    r = await stack.client.post(
        "/api/v1/messages",
        headers=acct.auth,
        json={"sender": "Shop", "to": [PHONE], "text": "Hi", "callback_url": url},
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["field"] == "callback_url" and WHY_REFUSED[url] in problem["detail"]
    assert await final_callbacks(stack) == []


@pytest.mark.parametrize("url", BAD_URLS)
async def test_native_bad_webhook_endpoint_url_is_a_problem_naming_it_and_why(
    stack: Stack, acct: TestAccount, url: str
) -> None:
    # The same rules at configuration time for an account's webhook endpoint.
    r = await stack.client.post("/api/v1/webhooks", headers=acct.auth, json={"url": url})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["field"] == "url" and WHY_REFUSED[url] in problem["detail"]
    assert (await stack.client.get("/api/v1/webhooks", headers=acct.auth)).json() == {
        "webhooks": []
    }
