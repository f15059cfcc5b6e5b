"""The legacy plain-text HTTP gateway against the real submit path: every operation under both
auth styles and every alias, text in every encoding clients use, and bad input of every kind
answered with the door's own error sentence, HTTP 200, never a 500."""

from __future__ import annotations

import asyncio
import base64
import re
import time
from typing import TYPE_CHECKING
from urllib.parse import quote_from_bytes, urlencode

import httpx
import pytest

from smsgate.domain.status import PartState
from smsgate.doors.http_gateway import (
    balance_reply,
    parse_multipart,
    parse_urlencoded,
    send_reply,
    status_reply,
)
from smsgate.store.records import OperatorReceipt, SubmitDone

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

PHONE = "380501234567"
PHONE2 = "380671234567"
CYRILLIC = "Привіт, це тест"
MARKER = "=IDS START="
TIMEOUT = 10.0

SEND_PATHS = ["/token/", "/http/", "/http/httpsendsms.php", "/token", "/http"]
STATE_PATHS = ["/token/state.php", "/http/state.php", "/http/httpgetsmsstate.php"]
BALANCE_PATHS = ["/token/getbalance.php", "/http/getbalance.php", "/http/httpgetbalance.php"]


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("380990000001")


def credentials(acct: TestAccount, path: str) -> dict[str, str]:
    if path.startswith("/token"):
        return {"username": acct.login, "token": acct.token}
    return {"username": acct.login, "password": acct.password}


async def get(stack: Stack, path: str, query: str | dict[str, str]) -> httpx.Response:
    raw = query if isinstance(query, str) else urlencode(query)
    return await asyncio.wait_for(stack.client.get(f"{path}?{raw}"), TIMEOUT)


async def post(
    stack: Stack, path: str, body: bytes, content_type: str | None = None, query: str = ""
) -> httpx.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    url = f"{path}?{query}" if query else path
    return await asyncio.wait_for(stack.client.post(url, content=body, headers=headers), TIMEOUT)


async def send(stack: Stack, acct: TestAccount, path: str = "/token/", **params: str) -> str:
    fields = {**credentials(acct, path), "from": acct.sender, "to": PHONE, "text": "Hi", **params}
    r = await get(stack, path, fields)
    assert r.status_code == 200
    return r.text


def ids_of(reply: str) -> list[str]:
    match = re.fullmatch(r"=IDS START=<br/>(.*)=IDS END=<br/>", reply)
    assert match, reply
    return [line for line in match.group(1).split("<br/>") if line]


def assert_error(r: httpx.Response) -> str:
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert MARKER not in r.text and r.text.strip()
    assert "<br/>" not in r.text
    return r.text


async def sent_texts(stack: Stack) -> list[str]:
    """The texts of queued single-part UCS-2 messages, as the operator will receive them."""
    parts = await stack.store.claim_parts(0, time.time() + 1, 100, 60)
    assert all(p.data_coding == 8 and p.total == 1 for p in parts)
    return [p.payload.decode("utf-16-be") for p in parts]


# -- reply formatting --------------------------------------------------------------------------
def test_send_reply_lists_one_id_per_line_between_markers() -> None:
    assert send_reply([803253430, 803253431]) == (
        "=IDS START=<br/>803253430<br/>803253431<br/>=IDS END=<br/>"
    )


def test_status_reply_pairs_ids_with_statuses() -> None:
    assert status_reply([("803253430", "DELIVRD"), ("803253431", "ENROUTE")]) == (
        "=IDS START=<br/>803253430: DELIVRD<br/>803253431: ENROUTE<br/>=IDS END=<br/>"
    )


def test_balance_reply_is_balance_then_credit() -> None:
    assert balance_reply("8111.1700", "0.0000") == "8111.1700<br/>0.0000<br/>"


# -- parameter parsing -------------------------------------------------------------------------
def test_urlencoded_values_stay_raw_bytes() -> None:
    assert parse_urlencoded(b"text=%CF%F0%E8&to=1;2&x") == {
        "text": b"\xcf\xf0\xe8",
        "to": b"1;2",
        "x": b"",
    }


def test_urlencoded_plus_is_space_and_later_keys_win() -> None:
    assert parse_urlencoded(b"text=a+b&text=c+d") == {"text": b"c d"}


def test_urlencoded_php_list_keys_join_with_semicolons() -> None:
    assert parse_urlencoded(b"to[]=1&to[]=2&to%5B5%5D=3") == {"to": b"1;2;3"}


def test_urlencoded_raw_unescaped_bytes_are_kept() -> None:
    assert parse_urlencoded("text=Привіт".encode("cp1251")) == {"text": "Привіт".encode("cp1251")}


def test_multipart_fields_stay_raw_bytes() -> None:
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="text"\r\n\r\n\xcf\xf0\xe8\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="to"\r\n\r\n' + PHONE.encode() + b"\r\n"
        b"--XX--\r\n"
    )
    assert parse_multipart("multipart/form-data; boundary=XX", body) == {
        "text": b"\xcf\xf0\xe8",
        "to": PHONE.encode(),
    }


# -- send --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", SEND_PATHS)
async def test_send_answers_ids_between_markers_on_every_path(
    stack: Stack, acct: TestAccount, path: str
) -> None:
    fields = {**credentials(acct, path), "from": "Shop", "to": f"{PHONE};{PHONE2}", "text": path}
    r = await get(stack, path, fields)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    ids = ids_of(r.text)
    assert len(ids) == 2 and all(i.isdigit() for i in ids) and ids[0] != ids[1]


async def test_send_by_post_form_body(stack: Stack, acct: TestAccount) -> None:
    fields = {**credentials(acct, "/token/"), "from": "Shop", "to": PHONE, "text": "Hi"}
    r = await post(
        stack, "/token/", urlencode(fields).encode(), "application/x-www-form-urlencoded"
    )
    assert len(ids_of(r.text)) == 1


async def test_send_by_post_without_content_type(stack: Stack, acct: TestAccount) -> None:
    fields = {**credentials(acct, "/http/"), "from": "Shop", "to": PHONE, "text": "Hi"}
    r = await post(stack, "/http/", urlencode(fields).encode())
    assert len(ids_of(r.text)) == 1


async def test_send_by_post_mixing_query_and_body(stack: Stack, acct: TestAccount) -> None:
    query = urlencode(credentials(acct, "/token/"))
    body = urlencode({"from": "Shop", "to": PHONE, "text": "Hi"}).encode()
    r = await post(stack, "/token/", body, "application/x-www-form-urlencoded", query=query)
    assert len(ids_of(r.text)) == 1


async def test_send_by_multipart_post(stack: Stack, acct: TestAccount) -> None:
    fields = {**credentials(acct, "/token/"), "from": "Shop", "to": PHONE}
    r = await asyncio.wait_for(
        stack.client.post(
            "/token/", data=fields, files={"text": (None, CYRILLIC.encode("cp1251"))}
        ),
        TIMEOUT,
    )
    assert len(ids_of(r.text)) == 1
    assert await sent_texts(stack) == [CYRILLIC]


async def test_recipients_split_on_commas_and_semicolons_with_spaces(
    stack: Stack, acct: TestAccount
) -> None:
    reply = await send(stack, acct, to=f" {PHONE} , {PHONE2};; ")
    assert len(ids_of(reply)) == 2


@pytest.mark.parametrize("charset", ["cp1251", "utf-8"])
async def test_text_in_windows_1251_or_utf8_arrives_as_the_same_text(
    stack: Stack, acct: TestAccount, charset: str
) -> None:
    text = quote_from_bytes(CYRILLIC.encode(charset))
    query = urlencode(credentials(acct, "/token/")) + f"&from=Shop&to={PHONE}&text={text}"
    r = await get(stack, "/token/", query)
    assert len(ids_of(r.text)) == 1
    assert await sent_texts(stack) == [CYRILLIC]


@pytest.mark.parametrize("charset", ["cp1251", "utf-8"])
async def test_base64_text_is_decoded(stack: Stack, acct: TestAccount, charset: str) -> None:
    encoded = base64.b64encode(CYRILLIC.encode(charset)).decode()
    reply = await send(stack, acct, text=encoded, text_encoding="base64")
    assert len(ids_of(reply)) == 1
    assert await sent_texts(stack) == [CYRILLIC]


async def test_base64_with_unescaped_plus_is_decoded(stack: Stack, acct: TestAccount) -> None:
    text = "ыпя ыпя"
    encoded = base64.b64encode(text.encode("cp1251")).decode()
    assert "+" in encoded
    query = urlencode(credentials(acct, "/token/"))
    r = await get(
        stack, "/token/", f"{query}&from=Shop&to={PHONE}&text={encoded}&text_encoding=base64"
    )
    assert len(ids_of(r.text)) == 1
    assert await sent_texts(stack) == [text]


async def test_invalid_base64_text_is_an_error(stack: Stack, acct: TestAccount) -> None:
    fields = {**credentials(acct, "/token/"), "from": "Shop", "to": PHONE}
    r = await get(stack, "/token/", {**fields, "text": "!!not base64!!", "text_encoding": "base64"})
    assert "base64" in assert_error(r)


async def test_garbage_bytes_in_text_do_not_break_the_door(stack: Stack, acct: TestAccount) -> None:
    query = urlencode(credentials(acct, "/token/")) + f"&from=Shop&to={PHONE}&text=%98%00%FF%C3%28"
    r = await get(stack, "/token/", query)
    assert r.status_code == 200
    assert MARKER in r.text or assert_error(r)


async def test_lifetime_in_minutes_is_accepted(stack: Stack, acct: TestAccount) -> None:
    assert len(ids_of(await send(stack, acct, lifetime="30"))) == 1


@pytest.mark.parametrize("lifetime", ["soon", "nan", "inf", "-5", "0"])
async def test_bad_lifetime_is_an_error_naming_the_parameter(
    stack: Stack, acct: TestAccount, lifetime: str
) -> None:
    fields = {**credentials(acct, "/token/"), "from": "Shop", "to": PHONE, "text": "Hi"}
    r = await get(stack, "/token/", {**fields, "lifetime": lifetime})
    assert "lifetime" in assert_error(r)


async def test_partly_invalid_recipients_list_only_the_accepted_ids(
    stack: Stack, acct: TestAccount
) -> None:
    reply = await send(stack, acct, to=f"38050;{PHONE}")
    ids = ids_of(reply)
    assert len(ids) == 1
    r = await get(stack, "/token/state.php", {**credentials(acct, "/token/"), "smscid": ids[0]})
    assert ids_of(r.text) == [f"{ids[0]}: ENROUTE"]


async def test_no_valid_recipient_is_an_error_naming_the_reason(
    stack: Stack, acct: TestAccount
) -> None:
    fields = {**credentials(acct, "/token/"), "from": "Shop", "to": "12;38050", "text": "Hi"}
    r = await get(stack, "/token/", fields)
    assert assert_error(r) == "No message sent: Invalid phone number"


@pytest.mark.parametrize(
    ("missing", "parameter"), [("to", "to"), ("text", "text"), ("from", "from")]
)
async def test_missing_field_is_an_error_naming_the_parameter(
    stack: Stack, acct: TestAccount, missing: str, parameter: str
) -> None:
    fields = {**credentials(acct, "/token/"), "from": "Shop", "to": PHONE, "text": "Hi"}
    del fields[missing]
    r = await get(stack, "/token/", fields)
    assert f"(parameter {parameter})" in assert_error(r)


async def test_sender_not_of_the_account_is_an_error(stack: Stack, acct: TestAccount) -> None:
    fields = {**credentials(acct, "/token/"), "from": "Bank", "to": PHONE, "text": "Hi"}
    r = await get(stack, "/token/", fields)
    assert "(parameter from)" in assert_error(r)


async def test_more_than_100_recipients_is_an_error(stack: Stack, acct: TestAccount) -> None:
    phones = ";".join(f"3805012{i:05d}" for i in range(101))
    fields = {**credentials(acct, "/token/"), "from": "Shop", "to": phones, "text": "Hi"}
    r = await get(stack, "/token/", fields)
    assert "(parameter to)" in assert_error(r)


async def test_100_recipients_are_accepted(stack: Stack, acct: TestAccount) -> None:
    phones = ";".join(f"3805012{i:05d}" for i in range(100))
    assert len(ids_of(await send(stack, acct, to=phones))) == 100


async def test_oversized_text_is_answered_not_crashed(stack: Stack, acct: TestAccount) -> None:
    fields = {**credentials(acct, "/token/"), "from": "Shop", "to": PHONE, "text": "x" * 50_000}
    r = await post(
        stack, "/token/", urlencode(fields).encode(), "application/x-www-form-urlencoded"
    )
    assert r.status_code == 200
    assert MARKER in r.text or assert_error(r)


async def test_body_over_the_limit_is_an_error(stack: Stack, acct: TestAccount) -> None:
    body = urlencode(credentials(acct, "/token/")).encode() + b"&text=" + b"x" * 1_100_000
    r = await post(stack, "/token/", body, "application/x-www-form-urlencoded")
    assert assert_error(r) == "Request is too large"


async def test_broken_multipart_body_is_an_error(stack: Stack, acct: TestAccount) -> None:
    r = await post(stack, "/token/", b"\xff\x00garbage", "multipart/form-data")
    assert assert_error(r)


async def test_duplicate_recipient_is_left_out_of_the_ids(stack: Stack, acct: TestAccount) -> None:
    await send(stack, acct, text="Same")
    ids = ids_of(await send(stack, acct, to=f"{PHONE};{PHONE2}", text="Same"))
    assert len(ids) == 1


async def test_all_duplicates_is_an_error(stack: Stack, acct: TestAccount) -> None:
    await send(stack, acct, text="Again")
    fields = {**credentials(acct, "/token/"), "from": "Shop", "to": PHONE, "text": "Again"}
    r = await get(stack, "/token/", fields)
    assert assert_error(r) == "Doubled SMS in less than 2 minutes"


async def test_same_text_in_two_encodings_is_a_duplicate(stack: Stack, acct: TestAccount) -> None:
    base = urlencode(credentials(acct, "/token/")) + f"&from=Shop&to={PHONE}&text="
    first = await get(stack, "/token/", base + quote_from_bytes(CYRILLIC.encode("cp1251")))
    assert len(ids_of(first.text)) == 1
    second = await get(stack, "/token/", base + quote_from_bytes(CYRILLIC.encode("utf-8")))
    assert assert_error(second) == "Doubled SMS in less than 2 minutes"


async def test_insufficient_balance_is_an_error_when_nothing_is_paid(stack: Stack) -> None:
    poor = await stack.account("380990000002", balance=0)
    r = await get(
        stack,
        "/token/",
        {**credentials(poor, "/token/"), "from": "Shop", "to": PHONE, "text": "Hi"},
    )
    assert assert_error(r) == "No message sent: Insufficient balance"


async def test_insufficient_balance_lists_the_ids_that_were_paid(stack: Stack) -> None:
    poor = await stack.account("380990000003", balance=5_000)  # one part's worth
    assert len(ids_of(await send(stack, poor, to=f"{PHONE};{PHONE2}"))) == 1


async def test_rate_limit_is_an_error_sentence_with_retry_after(stack: Stack) -> None:
    limited = await stack.account("380990000004", rate_limit=2)
    replies = []
    for i in range(4):
        fields = {**credentials(limited, "/token/"), "from": "Shop", "to": PHONE, "text": f"x{i}"}
        replies.append(await get(stack, "/token/", fields))
    limited_replies = [r for r in replies if MARKER not in r.text]
    assert limited_replies
    r = limited_replies[0]
    assert assert_error(r) == "Rate limit exceeded: retry later"
    assert int(r.headers["retry-after"]) >= 1


@pytest.mark.parametrize("path", [STATE_PATHS[0], BALANCE_PATHS[0]])
async def test_status_and_balance_are_rate_limited_too(stack: Stack, path: str) -> None:
    limited = await stack.account("380990000005", rate_limit=9)
    fields = {**credentials(limited, path), "smscid": "42"}
    started = time.monotonic()
    replies = [await get(stack, path, fields) for _ in range(30)]
    refilled = 9 * (time.monotonic() - started)  # tokens back during the burst, at most
    refused = [r for r in replies if "Rate limit" in r.text]
    assert refused and 30 - len(refused) <= 9 + refilled + 1
    assert all("Rate limit" not in r.text for r in replies[:9])
    for r in refused:
        assert assert_error(r) == "Rate limit exceeded: retry later"
        assert int(r.headers["retry-after"]) >= 1


# -- authentication ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "override"),
    [
        ("/token/", {"token": "wrong"}),
        ("/token/", {"username": "someone-else"}),
        ("/token/", {"username": ""}),
        ("/http/", {"password": "wrong"}),
        ("/http/", {"username": "nobody"}),
        ("/http/", {"password": ""}),
    ],
)
async def test_wrong_credentials_are_an_error(
    stack: Stack, acct: TestAccount, path: str, override: dict[str, str]
) -> None:
    fields = {**credentials(acct, path), "from": "Shop", "to": PHONE, "text": "Hi", **override}
    r = await get(stack, path, fields)
    assert assert_error(r).startswith("Invalid username or")


async def test_token_of_another_account_with_my_username_is_refused(
    stack: Stack, acct: TestAccount
) -> None:
    other = await stack.account("380990000005")
    fields = {"username": acct.login, "token": other.token, "from": "Shop", "to": PHONE}
    r = await get(stack, "/token/", {**fields, "text": "Hi"})
    assert assert_error(r) == "Invalid username or token"


async def test_no_credentials_at_all_is_an_error(stack: Stack) -> None:
    r = await get(stack, "/http/", "")
    assert assert_error(r) == "Invalid username or password"


async def test_disabled_account_is_refused(stack: Stack, acct: TestAccount) -> None:
    await stack.store.set_active(acct.record.id, False)
    r = await get(stack, "/token/getbalance.php", credentials(acct, "/token/"))
    assert_error(r)


# -- status ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", STATE_PATHS)
async def test_status_lists_each_id_with_its_status(
    stack: Stack, acct: TestAccount, path: str
) -> None:
    ids = ids_of(await send(stack, acct, to=f"{PHONE};{PHONE2}"))
    r = await get(stack, path, {**credentials(acct, path), "smscid": ";".join(ids)})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text == f"=IDS START=<br/>{ids[0]}: ENROUTE<br/>{ids[1]}: ENROUTE<br/>=IDS END=<br/>"


async def test_status_follows_delivery(stack: Stack, acct: TestAccount) -> None:
    (mid,) = ids_of(await send(stack, acct))
    parts = await stack.store.claim_parts(0, time.time() + 1, 10, 60)
    await stack.store.submitted(
        [SubmitDone(p.part_id, "op", f"op-{p.part_id}", 1.0) for p in parts]
    )
    await stack.store.apply_receipts(
        [OperatorReceipt("op", f"op-{p.part_id}", PartState.DELIVRD, 0, 2.0) for p in parts]
    )
    r = await get(stack, "/token/state.php", {**credentials(acct, "/token/"), "smscid": mid})
    assert r.text == f"=IDS START=<br/>{mid}: DELIVRD<br/>=IDS END=<br/>"


async def test_status_leaves_out_unknown_and_foreign_ids(stack: Stack, acct: TestAccount) -> None:
    other = await stack.account("380990000006")
    (foreign,) = ids_of(await send(stack, other))
    (mine,) = ids_of(await send(stack, acct))
    smscid = f"{foreign},999, abc ;{mine};{mine}"
    r = await get(stack, "/token/state.php", {**credentials(acct, "/token/"), "smscid": smscid})
    assert r.text == f"=IDS START=<br/>{mine}: ENROUTE<br/>=IDS END=<br/>"


async def test_status_of_only_unknown_ids_is_an_empty_list(stack: Stack, acct: TestAccount) -> None:
    r = await get(stack, "/token/state.php", {**credentials(acct, "/token/"), "smscid": "42"})
    assert r.text == "=IDS START=<br/>=IDS END=<br/>"


async def test_status_without_ids_is_an_error(stack: Stack, acct: TestAccount) -> None:
    r = await get(stack, "/token/state.php", credentials(acct, "/token/"))
    assert "(parameter smscid)" in assert_error(r)


async def test_status_of_more_than_100_ids_is_an_error(stack: Stack, acct: TestAccount) -> None:
    smscid = ";".join(str(i) for i in range(1, 102))
    r = await get(stack, "/token/state.php", {**credentials(acct, "/token/"), "smscid": smscid})
    assert "(parameter smscid)" in assert_error(r)


# -- balance -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", BALANCE_PATHS)
async def test_balance_is_balance_then_credit(stack: Stack, acct: TestAccount, path: str) -> None:
    r = await get(stack, path, credentials(acct, path))
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text == "1000.0000<br/>0.0000<br/>"


async def test_balance_by_post(stack: Stack, acct: TestAccount) -> None:
    body = urlencode(credentials(acct, "/http/")).encode()
    r = await post(stack, "/http/getbalance.php", body, "application/x-www-form-urlencoded")
    assert r.text == "1000.0000<br/>0.0000<br/>"


async def test_balance_reflects_reserved_money(stack: Stack, acct: TestAccount) -> None:
    await send(stack, acct)
    r = await get(stack, "/token/getbalance.php", credentials(acct, "/token/"))
    assert r.text == "999.5000<br/>0.0000<br/>"


@pytest.mark.parametrize(
    "query",
    ["", "username=x&token=bad", "username=x&password=bad", "token=%FF%00", "password=1.5,0"],
)
async def test_balance_errors_hold_no_digits_dots_or_commas(
    stack: Stack, acct: TestAccount, query: str
) -> None:
    for path in BALANCE_PATHS:
        r = await get(stack, path, query)
        assert not re.search(r"[\d.,]", assert_error(r))


async def test_balance_body_over_the_limit_is_a_digit_free_error(
    stack: Stack, acct: TestAccount
) -> None:
    r = await post(stack, "/token/getbalance.php", b"x=" + b"1" * 1_100_000)
    assert not re.search(r"[\d.,]", assert_error(r))


async def test_unsupported_method_and_unknown_path_answer_in_the_doors_text(stack: Stack) -> None:
    r = await asyncio.wait_for(stack.client.put("/token/"), TIMEOUT)
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text == "Method not allowed: use GET, POST"
    r = await asyncio.wait_for(stack.client.get("/http/nowhere.php"), TIMEOUT)
    assert r.status_code == 404 and r.text == "Unknown path"
