"""The XML gateway against the real submit path: send, individual send and state, the exact
reply bytes, and hostile or broken XML of every kind answered with `<status>ERROR</status>`,
HTTP 200, never a 500 and never an entity expanded."""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING

import httpx
import pytest

from smsgate.domain.status import PartState
from smsgate.doors.xml_gateway import (
    DoorError,
    error_reply,
    parse_request,
    send_reply,
    state_reply,
)
from smsgate.store.records import OperatorReceipt, SubmitDone

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

PHONE = "380501234567"
PHONE2 = "380671234567"
CYRILLIC = "Привіт, це тест"
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
TIMEOUT = 10.0


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("380990000001")


def cdata(value: str) -> str:
    return f"<![CDATA[{value}]]>"


def auth(acct: TestAccount, *, token: bool = False) -> str:
    secret = (
        f"<token>{acct.token}</token>" if token else f"<password>{cdata(acct.password)}</password>"
    )
    return f"<username>{cdata(acct.login)}</username>{secret}"


def sendsms(acct: TestAccount, body: str, *, token: bool = False) -> bytes:
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        f"<request_sendsms>{auth(acct, token=token)}{body}</request_sendsms>"
    ).encode()


def getstate(acct: TestAccount, ids: str, *, token: bool = False) -> bytes:
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        f"<request_getstate>{auth(acct, token=token)}"
        f"<smscid>{cdata(ids)}</smscid></request_getstate>"
    ).encode()


async def post(
    stack: Stack, path: str, body: bytes, content_type: str | None = "text/xml; charset=utf-8"
) -> httpx.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return await asyncio.wait_for(stack.client.post(path, content=body, headers=headers), TIMEOUT)


def ids_of(r: httpx.Response) -> list[str]:
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    match = re.fullmatch(
        re.escape(DECLARATION)
        + r"<response><status>OK</status><text></text>"
        + r"<ids>((?:<mess>\d+</mess>)*)</ids></response>",
        r.text,
    )
    assert match, r.text
    return re.findall(r"<mess>(\d+)</mess>", match.group(1))


def error_of(r: httpx.Response) -> str:
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    match = re.fullmatch(
        re.escape(DECLARATION) + r"<response><status>ERROR</status><text>(.+)</text></response>",
        r.text,
    )
    assert match, r.text
    return match.group(1)


async def send(stack: Stack, acct: TestAccount, to: str = PHONE, text: str = "Hi") -> list[str]:
    body = f"<from>{cdata(acct.sender)}</from><to>{cdata(to)}</to><text>{cdata(text)}</text>"
    return ids_of(await post(stack, "/xml/", sendsms(acct, body)))


async def sent_texts(stack: Stack) -> list[str]:
    """The texts of queued single-part UCS-2 messages, as the operator will receive them."""
    parts = await stack.store.claim_parts(0, time.time() + 1, 100, 60)
    assert all(p.data_coding == 8 and p.total == 1 for p in parts)
    return [p.payload.decode("utf-16-be") for p in parts]


# -- reply formatting --------------------------------------------------------------------------
def test_send_reply_is_byte_exact() -> None:
    assert send_reply([1, 2]) == (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<response><status>OK</status><text></text>"
        "<ids><mess>1</mess><mess>2</mess></ids></response>"
    )


def test_state_reply_is_byte_exact() -> None:
    assert state_reply([("1", "DELIVRD")]) == (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<response><status>OK</status><text></text>"
        "<entries><entry><smscid>1</smscid><state>DELIVRD</state></entry></entries></response>"
    )


def test_error_reply_escapes_its_text_and_drops_characters_xml_cannot_hold() -> None:
    assert error_reply("a <b> & \x00c") == (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<response><status>ERROR</status><text>a &lt;b&gt; &amp; c</text></response>"
    )


# -- parsing -----------------------------------------------------------------------------------
def test_values_in_cdata_and_plain_text_read_alike() -> None:
    doc = parse_request(b"<r><a><![CDATA[x<y]]></a><b> plain </b></r>")
    assert (doc.root, doc.first("a"), doc.first("b")) == ("r", "x<y", "plain")


def test_namespaces_and_case_are_ignored() -> None:
    doc = parse_request(b'<R xmlns="urn:x"><UserName>u</UserName></R>')
    assert (doc.root, doc.first("username")) == ("r", "u")


def test_leading_whitespace_before_the_declaration_is_tolerated() -> None:
    assert parse_request(b"\n  <?xml version='1.0'?><r><a>1</a></r>").first("a") == "1"


def test_windows_1251_declared_is_honoured() -> None:
    body = '<?xml version="1.0" encoding="windows-1251"?><r><t>Привіт</t></r>'.encode("cp1251")
    assert parse_request(body).first("t") == "Привіт"


def test_windows_1251_bytes_declared_as_utf8_are_read_as_windows_1251() -> None:
    body = "<?xml version='1.0' encoding='utf-8'?><r><t>Привіт</t></r>".encode("cp1251")
    assert parse_request(body).first("t") == "Привіт"


def test_deeply_nested_document_parses_in_linear_time() -> None:
    depth = 50_000
    body = b"<r>" + b"<a>" * depth + b"x" + b"</a>" * depth + b"</r>"
    started = time.monotonic()
    doc = parse_request(body)
    assert len(doc.all("a")) == depth
    assert time.monotonic() - started < 5


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<request_sendsms><username>&lol9;</username></request_sendsms>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<request_sendsms><text>&xxe;</text></request_sendsms>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd">
<request_sendsms><text>x</text></request_sendsms>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_dtds_and_entities_are_refused(body: bytes) -> None:
    with pytest.raises(DoorError, match="DTDs and entities are not allowed"):
        parse_request(body)


@pytest.mark.parametrize(
    "body",
    [
        b"username=x&password=y",
        b"<request_sendsms>",
        b"<a></b>",
        b"\xff\xfe\x00\x00garbage",
        b"<a>&undefined;</a>",
        b"<a/><b/>",
        b'{"json": true}',
    ],
)
def test_non_xml_is_refused(body: bytes) -> None:
    with pytest.raises(DoorError, match="not well-formed XML"):
        parse_request(body)


@pytest.mark.parametrize("body", [b"", b"  \r\n "])
def test_empty_body_is_refused(body: bytes) -> None:
    with pytest.raises(DoorError, match="empty"):
        parse_request(body)


# -- send --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/xml/", "/xml", "/xml/individual.php"])
async def test_send_answers_one_mess_per_recipient(
    stack: Stack, acct: TestAccount, path: str
) -> None:
    body = f"<from>Shop</from><to>{PHONE};{PHONE2}</to><text>{cdata(path)}</text>"
    ids = ids_of(await post(stack, path, sendsms(acct, body)))
    assert len(ids) == 2 and ids[0] != ids[1]


@pytest.mark.parametrize("content_type", [None, "application/xml", "text/plain", "text/xml"])
async def test_any_content_type_or_none_is_accepted(
    stack: Stack, acct: TestAccount, content_type: str | None
) -> None:
    body = f"<from>Shop</from><to>{PHONE}</to><text>{content_type}</text>"
    assert len(ids_of(await post(stack, "/xml/", sendsms(acct, body), content_type))) == 1


async def test_pretty_printed_request_is_accepted(stack: Stack, acct: TestAccount) -> None:
    body = f"""<?xml version='1.0' encoding='utf-8'?>
        <request_sendsms>
            <username><![CDATA[{acct.login}]]></username>
            <password><![CDATA[{acct.password}]]></password>
            <from><![CDATA[Shop]]></from>
            <to><![CDATA[{PHONE}]]></to>
            <text><![CDATA[{CYRILLIC}]]></text>
        </request_sendsms>"""
    assert len(ids_of(await post(stack, "/xml/", body.encode()))) == 1
    assert await sent_texts(stack) == [CYRILLIC]


async def test_utf8_text_arrives_intact(stack: Stack, acct: TestAccount) -> None:
    assert len(await send(stack, acct, text=CYRILLIC)) == 1
    assert await sent_texts(stack) == [CYRILLIC]


async def test_text_with_markup_characters_arrives_intact(stack: Stack, acct: TestAccount) -> None:
    text = "Ціна < 5 & > 2 «ок»"
    body = f"<from>Shop</from><to>{PHONE}</to><text>Ціна &lt; 5 &amp; &gt; 2 «ок»</text>"
    assert len(ids_of(await post(stack, "/xml/", sendsms(acct, body)))) == 1
    assert await sent_texts(stack) == [text]


async def test_individual_pairs_each_to_with_its_text(stack: Stack, acct: TestAccount) -> None:
    body = (
        f"<from>Shop</from><to>{PHONE}</to><text>Перший</text><to>{PHONE2}</to><text>Другий</text>"
    )
    ids = ids_of(await post(stack, "/xml/individual.php", sendsms(acct, body)))
    assert len(ids) == 2
    assert sorted(await sent_texts(stack)) == sorted(["Перший", "Другий"])


async def test_individual_pairs_wrapped_in_message_elements(
    stack: Stack, acct: TestAccount
) -> None:
    body = (
        f"<from>Shop</from><message><to>{PHONE}</to><text>Перший</text></message>"
        f"<message><to>{PHONE2}</to><text>Другий</text></message>"
    )
    assert len(ids_of(await post(stack, "/xml/individual.php", sendsms(acct, body)))) == 2


async def test_unpaired_to_and_text_are_an_error(stack: Stack, acct: TestAccount) -> None:
    body = (
        f"<from>Shop</from><to>{PHONE}</to><to>{PHONE2}</to><text>a</text><text>b</text><to>1</to>"
    )
    r = await post(stack, "/xml/individual.php", sendsms(acct, body))
    assert "needs its own" in error_of(r)


async def test_token_element_authenticates(stack: Stack, acct: TestAccount) -> None:
    body = f"<from>Shop</from><to>{PHONE}</to><text>Hi</text>"
    assert len(ids_of(await post(stack, "/xml/", sendsms(acct, body, token=True)))) == 1


async def test_partly_invalid_recipients_list_only_the_accepted_ids(
    stack: Stack, acct: TestAccount
) -> None:
    assert len(await send(stack, acct, to=f"38050;{PHONE}")) == 1


async def test_no_valid_recipient_is_an_error_naming_the_reason(
    stack: Stack, acct: TestAccount
) -> None:
    body = "<from>Shop</from><to>12;38050</to><text>Hi</text>"
    r = await post(stack, "/xml/", sendsms(acct, body))
    assert error_of(r) == "No message sent: Invalid phone number"


@pytest.mark.parametrize(
    ("body", "element"),
    [
        ("<from>Shop</from><text>Hi</text>", "to"),
        (f"<from>Shop</from><to>{PHONE}</to>", "text"),
        (f"<from>Shop</from><to>{PHONE}</to><text>   </text>", "text"),
        (f"<to>{PHONE}</to><text>Hi</text>", "from"),
        (f"<from>Bank</from><to>{PHONE}</to><text>Hi</text>", "from"),
        (f"<from>Shop</from><to>{PHONE}</to><text>Hi</text><lifetime>-1</lifetime>", "lifetime"),
        (f"<from>Shop</from><to>{PHONE}</to><text>Hi</text><lifetime>soon</lifetime>", "lifetime"),
    ],
)
async def test_missing_or_bad_element_is_an_error_naming_it(
    stack: Stack, acct: TestAccount, body: str, element: str
) -> None:
    r = await post(stack, "/xml/", sendsms(acct, body))
    assert f"(element {element})" in error_of(r)


async def test_lifetime_element_is_accepted(stack: Stack, acct: TestAccount) -> None:
    body = f"<from>Shop</from><to>{PHONE}</to><text>Hi</text><lifetime>30</lifetime>"
    assert len(ids_of(await post(stack, "/xml/", sendsms(acct, body)))) == 1


async def test_more_than_100_recipients_is_an_error(stack: Stack, acct: TestAccount) -> None:
    phones = ";".join(f"3805012{i:05d}" for i in range(101))
    body = f"<from>Shop</from><to>{phones}</to><text>Hi</text>"
    assert "(element to)" in error_of(await post(stack, "/xml/", sendsms(acct, body)))


async def test_duplicate_recipient_is_left_out_of_the_ids(stack: Stack, acct: TestAccount) -> None:
    await send(stack, acct, text="Same")
    assert len(await send(stack, acct, to=f"{PHONE};{PHONE2}", text="Same")) == 1


async def test_all_duplicates_is_an_error(stack: Stack, acct: TestAccount) -> None:
    await send(stack, acct, text="Again")
    body = f"<from>Shop</from><to>{PHONE}</to><text>Again</text>"
    assert error_of(await post(stack, "/xml/", sendsms(acct, body))) == (
        "Doubled SMS in less than 2 minutes"
    )


async def test_insufficient_balance_is_an_error(stack: Stack) -> None:
    poor = await stack.account("380990000002", balance=0)
    body = f"<from>Shop</from><to>{PHONE}</to><text>Hi</text>"
    assert error_of(await post(stack, "/xml/", sendsms(poor, body))) == (
        "No message sent: Insufficient balance"
    )


async def test_rate_limit_is_an_error_with_retry_after(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited = await stack.account("380990000003", rate_limit=2)
    # Every send at one instant: the bucket holds 2, so the third and fourth are refused
    # however long each request takes. (Each checks the password with scrypt here, the stack
    # caching nothing: on a loaded machine that took over half a second, the time the bucket
    # takes to earn a token back, and then none was refused.)
    now = time.time()
    monkeypatch.setattr(stack.gateway.submitter, "_clock", lambda: now)
    replies = []
    for i in range(4):
        body = f"<from>Shop</from><to>{PHONE}</to><text>x{i}</text>"
        replies.append(await post(stack, "/xml/", sendsms(limited, body)))
    refused = ["<status>ERROR</status>" in r.text for r in replies]
    assert refused == [False, False, True, True], [r.text for r in replies]
    for r in replies[2:]:
        assert error_of(r) == "Rate limit exceeded: retry later"
        assert int(r.headers["retry-after"]) >= 1


async def test_state_requests_are_rate_limited_too(stack: Stack) -> None:
    limited = await stack.account("380990000004", rate_limit=9)
    started = time.monotonic()
    replies = [
        await post(stack, "/xml/state.php", getstate(limited, "42", token=True)) for _ in range(30)
    ]
    refilled = 9 * (time.monotonic() - started)  # tokens back during the burst, at most
    refused = [r for r in replies if "Rate limit" in r.text]
    assert refused and 30 - len(refused) <= 9 + refilled + 1
    assert all("Rate limit" not in r.text for r in replies[:9])
    for r in refused:
        assert error_of(r) == "Rate limit exceeded: retry later"
        assert int(r.headers["retry-after"]) >= 1


# -- hostile and broken requests at the endpoint -----------------------------------------------
@pytest.mark.parametrize(
    ("body", "description"),
    [
        (BILLION_LAUGHS, "DTDs and entities are not allowed"),
        (EXTERNAL_ENTITY, "DTDs and entities are not allowed"),
        (EXTERNAL_DTD, "DTDs and entities are not allowed"),
        (b"username=x&password=y", "Request body is not well-formed XML"),
        (b"\x00\xff\xfe garbage", "Request body is not well-formed XML"),
        (b"", "Request body is empty: expected XML"),
        (
            b"<request_getstate><smscid>1</smscid></request_getstate>",
            "Unexpected root element &lt;request_getstate&gt;: expected &lt;request_sendsms&gt;",
        ),
    ],
)
async def test_hostile_or_broken_xml_is_an_error(
    stack: Stack, body: bytes, description: str
) -> None:
    assert error_of(await post(stack, "/xml/", body)) == description


async def test_body_over_the_limit_is_an_error(stack: Stack, acct: TestAccount) -> None:
    body = sendsms(acct, "<text>" + "x" * 1_100_000 + "</text>")
    assert error_of(await post(stack, "/xml/", body)) == "Request is too large"


async def test_get_is_answered_with_an_xml_error(stack: Stack) -> None:
    r = await asyncio.wait_for(stack.client.get("/xml/"), TIMEOUT)
    assert error_of(r) == "Request body is empty: expected XML"


@pytest.mark.parametrize(
    "credentials",
    [
        "<username>380990000001</username><password>wrong</password>",
        "<username>nobody</username><password>pw-380990000001</password>",
        "<username>380990000001</username>",
        "<username></username><password></password>",
        "<username>someone</username><token>token-380990000001</token>",
        "",
    ],
)
async def test_wrong_credentials_are_an_error(
    stack: Stack, acct: TestAccount, credentials: str
) -> None:
    message = f"<from>Shop</from><to>{PHONE}</to><text>Hi</text>"
    body = f"<request_sendsms>{credentials}{message}</request_sendsms>"
    assert error_of(await post(stack, "/xml/", body.encode())).startswith("Invalid username or")


# -- state -------------------------------------------------------------------------------------
async def test_state_lists_each_id_with_its_state(stack: Stack, acct: TestAccount) -> None:
    ids = await send(stack, acct, to=f"{PHONE};{PHONE2}")
    r = await post(stack, "/xml/state.php", getstate(acct, ";".join(ids)))
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    assert r.text == (
        f"{DECLARATION}<response><status>OK</status><text></text><entries>"
        f"<entry><smscid>{ids[0]}</smscid><state>ENROUTE</state></entry>"
        f"<entry><smscid>{ids[1]}</smscid><state>ENROUTE</state></entry>"
        "</entries></response>"
    )


async def test_state_follows_delivery(stack: Stack, acct: TestAccount) -> None:
    (mid,) = await send(stack, acct)
    parts = await stack.store.claim_parts(0, time.time() + 1, 10, 60)
    await stack.store.submitted(
        [SubmitDone(p.part_id, "op", f"op-{p.part_id}", 1.0) for p in parts]
    )
    await stack.store.apply_receipts(
        [OperatorReceipt("op", f"op-{p.part_id}", PartState.DELIVRD, 0, 2.0) for p in parts]
    )
    r = await post(stack, "/xml/state.php", getstate(acct, mid))
    assert f"<entry><smscid>{mid}</smscid><state>DELIVRD</state></entry>" in r.text


async def test_state_leaves_out_unknown_and_foreign_ids(stack: Stack, acct: TestAccount) -> None:
    other = await stack.account("380990000004")
    (foreign,) = await send(stack, other)
    (mine,) = await send(stack, acct)
    r = await post(stack, "/xml/state.php", getstate(acct, f"{foreign};999;abc, {mine}"))
    assert r.text == (
        f"{DECLARATION}<response><status>OK</status><text></text><entries>"
        f"<entry><smscid>{mine}</smscid><state>ENROUTE</state></entry></entries></response>"
    )


async def test_state_without_ids_is_an_error(stack: Stack, acct: TestAccount) -> None:
    r = await post(stack, "/xml/state.php", getstate(acct, ""))
    assert "(element smscid)" in error_of(r)


async def test_state_of_more_than_100_ids_is_an_error(stack: Stack, acct: TestAccount) -> None:
    ids = ";".join(str(i) for i in range(1, 102))
    assert "(element smscid)" in error_of(await post(stack, "/xml/state.php", getstate(acct, ids)))


async def test_state_with_the_send_root_is_an_error(stack: Stack, acct: TestAccount) -> None:
    r = await post(stack, "/xml/state.php", sendsms(acct, "<smscid>1</smscid>"))
    assert error_of(r).startswith("Unexpected root element")


async def test_unknown_paths_and_other_methods_answer_in_the_xml_shape(stack: Stack) -> None:
    r = await asyncio.wait_for(stack.client.put("/xml/state.php", content=b"<x/>"), TIMEOUT)
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    assert r.text == (
        f"{DECLARATION}<response><status>ERROR</status>"
        "<text>Method not allowed: use GET, POST</text></response>"
    )
    r = await asyncio.wait_for(stack.client.post("/xml/nowhere.php", content=b"<x/>"), TIMEOUT)
    assert r.status_code == 404 and r.headers["content-type"] == "text/xml; charset=utf-8"
    assert (
        r.text
        == f"{DECLARATION}<response><status>ERROR</status><text>Unknown path</text></response>"
    )
