"""The three SMS Club doors (JSON API, HTTP gateway, XML gateway) fuzzed through the real ASGI
app and store. Each request starts as a valid one of the contract (smsclub-api.md) for its path
and is then bent: fields dropped or replaced by wrong types and junk, other methods, unknown
paths, broken or hostile bodies, lone surrogates, forms, wrong credentials. The oracle is the
contract's own shape: never a server error, every answer in its door's format (the JSON
envelope or top-level error with the HTTP status in `status`, the `=IDS START=` lines or an
error sentence, a well-formed `<response>`), ids no larger than 2^53 - 1 and only the five
public statuses. These doors are in no OpenAPI document (the native API's is fuzzed by
schemathesis in tests/doors/native/test_schemathesis.py), so the requests are generated from
the contract here. Bounded and repeatable: 150 requests a door, derandomized; `pytest
--hypothesis-show-statistics` shows how the answers spread (each test records its answer's
kind as an event)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_from_bytes

import defusedxml.ElementTree as SafeET
import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same requests on every run, so a failure is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

STATUSES = {"ENROUTE", "DELIVRD", "EXPIRED", "UNDELIV", "REJECTD"}
MAX_ID = 2**53 - 1

JSON_PATHS = ["/sms/send", "/v2/sms/send", "/sms/status", "/sms/originator", "/sms/balance"]
HTTP_PATHS = {
    "/token/": "send",
    "/token": "send",
    "/token/state.php": "status",
    "/token/getbalance.php": "balance",
    "/http/": "send",
    "/http/state.php": "status",
    "/http/getbalance.php": "balance",
    "/http/httpsendsms.php": "send",
    "/http/httpgetsmsstate.php": "status",
    "/http/httpgetbalance.php": "balance",
}
XML_PATHS = {
    "/xml/": "request_sendsms",
    "/xml": "request_sendsms",
    "/xml/individual.php": "request_sendsms",
    "/xml/state.php": "request_getstate",
}
methods = st.sampled_from(["POST"] * 12 + ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])


def rarely(draw: st.DrawFn) -> bool:
    """True one time in five: how often a valid part of a request is bent."""
    return draw(st.integers(0, 4)) == 0


good_phones = st.integers(10_000_000, 99_999_999).map(lambda n: f"3805{n}")
phones = st.one_of(
    good_phones,
    st.integers(10_000_000, 99_999_999).map(lambda n: 380670000000 + n),
    st.sampled_from(["", " ", "+380501234567", "0501234567", "12", "phone", "３８０５０"]),
    st.text(max_size=20),
)
good_texts = st.sampled_from(["Hello", "Привіт", "€ [x] {y}", "x" * 200, "ї" * 80]).flatmap(
    lambda t: st.integers(0, 10**6).map(lambda n: f"{t} {n}")  # mostly not a duplicate
)
texts = st.one_of(good_texts, st.text(max_size=300), st.just(""))
ids = st.one_of(
    st.integers(-5, 2**64).map(str),
    st.integers(1, MAX_ID),
    st.sampled_from(["", "0", "abc", "1.5", "１２３", "9" * 30, "-1", " 7 "]),
)
senders = st.sampled_from(["Nobody", "", " Shop ", "x" * 40, "shop"])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)
)
junk = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner)
)
EXTRAS: dict[str, st.SearchStrategy[Any]] = {
    "lifetime": st.one_of(st.integers(-5, 10_000), st.sampled_from(["1", "x", "1e400"])),
    "integration_id": scalars,
    "callback_url": st.sampled_from(["https://example.com/cb", "http://127.0.0.1/", "ftp://x"]),
    "callback_events": st.sampled_from(["final", "all", "31", "0", "99"]),
    "junk": junk,
}


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("alice")


@pytest.fixture
async def sent(stack: Stack, acct: TestAccount) -> list[str]:
    """Ids of messages the account sent, for status queries to find."""
    body = {"phone": ["380501234567", "380671234567"], "message": "Hi", "src_addr": "Shop"}
    r = await stack.client.post("/sms/send", headers=acct.auth, json=body)
    return list(r.json()["success_request"]["info"])


# -- the JSON API ----------------------------------------------------------------------------------


@st.composite
def json_fields(draw: st.DrawFn, path: str, sent: list[str]) -> dict[str, Any]:
    """A valid request of `path`, each field replaced by junk or dropped one time in five."""
    valid: dict[str, st.SearchStrategy[Any]] = {}
    if path == "/sms/send":
        valid = {"phone": st.lists(good_phones, min_size=1, max_size=3), "message": good_texts}
    elif path == "/v2/sms/send":
        item = st.fixed_dictionaries({"phone": good_phones, "message": good_texts})
        valid = {"data_message": st.lists(item, min_size=1, max_size=3)}
    elif path == "/sms/status":
        valid = {"id_sms": st.lists(st.sampled_from(sent), min_size=1, max_size=3)}
    if path.endswith("/send"):
        valid["src_addr"] = st.just("Shop")
    fields: dict[str, Any] = {}
    for name, strategy in valid.items():
        if not rarely(draw):
            fields[name] = draw(strategy)
        elif draw(st.booleans()):
            fields[name] = draw(
                st.one_of(
                    junk,
                    phones if name == "phone" else texts,
                    senders,
                    st.lists(phones if name == "phone" else ids, min_size=99, max_size=102),
                )
            )
    for name, strategy in EXTRAS.items():
        if rarely(draw):
            fields[name] = draw(strategy)
    return fields


def dumps(value: object) -> bytes:
    # The stdlib, not orjson: integers beyond 64 bits and Infinity are what clients may send.
    return json.dumps(value, ensure_ascii=False).encode()


def form_of(fields: dict[str, Any]) -> bytes:
    pairs = []
    for key, value in fields.items():
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            name = f"{key}[{i}]" if isinstance(value, list) else key
            pairs.append(f"{name}={quote_from_bytes(str(item).encode('utf-8', 'replace'))}")
    return "&".join(pairs).encode()


def body_of(draw: st.DrawFn, fields: dict[str, Any]) -> tuple[bytes, str]:
    """The body and its Content-Type (often wrong, as clients send them)."""
    kind = draw(st.sampled_from(["json"] * 5 + ["form", "surrogate", "other json", "raw"]))
    if kind == "form":
        body = form_of(fields)
    elif kind == "surrogate":  # a lone escape where the first string value starts
        body = dumps(fields).replace(b': "', b': "\\ud83d', 1)
    elif kind == "other json":
        body = dumps(draw(junk))
    elif kind == "raw":
        body = draw(
            st.one_of(
                st.sampled_from([b"", b"null", b"[]", b"{", b"1e999", b'"\\udc00"', b"\xff{"]),
                st.binary(max_size=64),
            )
        )
    else:
        body = dumps(fields)
    label = {"form": "application/x-www-form-urlencoded"}.get(kind, "application/json")
    if rarely(draw):
        label = draw(st.sampled_from(["", "text/plain", "application/json; charset=x\x01"]))
    return body, label


def assert_json_door_shape(r: httpx.Response) -> None:
    assert r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert isinstance(body, dict)
    if "success_request" in body:
        assert set(body) == {"success_request"}
        inner = body["success_request"]
        assert isinstance(inner, dict) and inner and set(inner) <= {"info", "add_info"}
        add_info = inner.get("add_info", {})
        assert isinstance(add_info, dict)
        assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in add_info.items())
        if r.status_code == 400:
            assert set(inner) == {"add_info"} and len(add_info) == 1
        else:
            assert r.status_code == 200
        info = inner.get("info")
        if isinstance(info, dict) and info and set(info.values()) <= STATUSES:
            pass  # /sms/status, keyed by the ids as given
        elif isinstance(info, dict) and "money" not in info:
            assert all(k.isdigit() and 0 < int(k) <= MAX_ID for k in info), info
    else:
        assert set(body) == {"name", "message", "code", "status"}, body
        assert body["status"] == r.status_code and body["code"] == 0
        assert isinstance(body["name"], str) and isinstance(body["message"], str)
        assert r.status_code in {401, 404, 405, 413, 429, 453}, body
        if r.status_code == 405:
            assert r.headers["allow"] == "POST"
        if r.status_code == 429:
            assert int(r.headers["retry-after"]) >= 1


@FUZZ
@given(data=st.data())
async def test_the_json_door_answers_everything_in_its_own_shape(
    stack: Stack, acct: TestAccount, sent: list[str], data: st.DataObject
) -> None:
    method = data.draw(methods)
    path = data.draw(st.sampled_from(JSON_PATHS))
    if rarely(data.draw):
        path = data.draw(st.text("abcz/._-%", max_size=12).map(lambda p: "/sms/" + p))
    body, content_type = body_of(data.draw, data.draw(json_fields(path, sent)))
    headers = {"Content-Type": content_type} if content_type else {}
    if rarely(data.draw):
        headers |= data.draw(
            st.sampled_from([{"Authorization": "Bearer nope"}, {}, {"Authorization": "Basic YTpi"}])
        )
    else:
        headers |= acct.auth
    r = await stack.client.request(method, path, headers=headers, content=body)
    if method == "HEAD":
        assert r.status_code < 500 and r.content == b""
        return
    assert_json_door_shape(r)
    event(f"{r.status_code} {', '.join(r.json().get('success_request', {}))}")


# -- the HTTP gateway ------------------------------------------------------------------------------

IDS_LINES = re.compile(r"=IDS START=<br/>(?:[^<>]*<br/>)*=IDS END=<br/>")
BALANCE = re.compile(r"-?\d+\.\d{4}<br/>-?\d+\.\d{4}<br/>")
byte_texts = st.one_of(
    texts.map(lambda t: t.encode("utf-8")),
    texts.map(lambda t: t.encode("cp1251", "replace")),
    st.binary(max_size=40),
)


@st.composite
def legacy_fields(
    draw: st.DrawFn, operation: str, acct: TestAccount, sent: list[str]
) -> dict[str, bytes]:
    """A valid request of `operation` with the token, each field bent one time in five."""
    valid: dict[str, st.SearchStrategy[bytes]] = {
        "username": st.just(acct.login.encode()),
        "token": st.just(acct.token.encode()),
    }
    if operation == "send":
        valid["from"] = st.just(b"Shop")
        valid["to"] = st.tuples(
            st.sampled_from([b";", b","]), st.lists(good_phones.map(str.encode), min_size=1)
        ).map(lambda sep_phones: sep_phones[0].join(sep_phones[1]))
        valid["text"] = good_texts.map(str.encode)
    elif operation == "status":
        valid["smscid"] = st.lists(st.sampled_from(sent), min_size=1, max_size=3).map(
            lambda chosen: ";".join(chosen).encode()
        )
    bent = {
        "username": st.sampled_from([b"", b"bob", b"alice\x00"]),
        "token": st.sampled_from([b"", b"nope"]),
        "from": senders.map(str.encode),
        "to": st.lists(phones.map(lambda p: str(p).encode()), max_size=4).map(b" ; ".join),
        "text": byte_texts,
        "smscid": st.lists(ids.map(lambda i: str(i).encode()), max_size=4).map(b";".join),
    }
    fields: dict[str, bytes] = {}
    for name, strategy in valid.items():
        if not rarely(draw):
            fields[name] = draw(strategy)
        elif draw(st.booleans()):
            fields[name] = draw(bent[name])
    extras = {
        "password": st.just(b"wrong"),  # beside the token, or alone once the token is dropped
        "lifetime": st.sampled_from([b"10", b"-1", b"x", b"", b"1e400"]),
        "text_encoding": st.sampled_from([b"base64", b"", b"rot13"]),
        "callback_url": st.sampled_from([b"https://example.com/cb", b"file:///etc/passwd"]),
        "junk": st.binary(max_size=10),
    }
    for name, strategy in extras.items():
        if rarely(draw):
            fields[name] = draw(strategy)
    return fields


def encoded(fields: dict[str, bytes]) -> str:
    return "&".join(f"{k}={quote_from_bytes(v)}" for k, v in fields.items())


def legacy_kind(text: str) -> str:
    if IDS_LINES.fullmatch(text):
        return "ids" if text.count("<br/>") > 2 else "no ids"
    return "balance" if BALANCE.fullmatch(text) else "error"


def assert_http_gateway_shape(r: httpx.Response, operation: str, method: str) -> None:
    assert r.status_code < 500, r.text
    if method not in {"GET", "POST"}:
        assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
        return
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    text = r.content.decode("utf-8")
    kind = legacy_kind(text)
    if operation == "balance":
        assert kind in {"balance", "error"}
        if kind == "error":  # a client reads any digit, "." or "," as a balance
            assert text.strip() and not re.search(r"[\d.,]", text), text
        return
    assert kind != "balance"
    if kind == "error":
        assert text.strip() and "=IDS" not in text and "<br/>" not in text, text
        return
    for line in text.split("<br/>")[1:-2]:
        given, _, state = line.partition(": ")
        if operation == "status":
            assert state in STATUSES, line
        else:
            assert given.isdigit() and 0 < int(given) <= MAX_ID and not state, line


@FUZZ
@given(data=st.data())
async def test_the_http_gateway_answers_everything_in_its_own_shape(
    stack: Stack, acct: TestAccount, sent: list[str], data: st.DataObject
) -> None:
    method = data.draw(methods)
    path = data.draw(st.sampled_from(sorted(HTTP_PATHS)))
    operation = HTTP_PATHS[path]
    fields = data.draw(legacy_fields(operation, acct, sent))
    in_body = method != "GET" and data.draw(st.booleans())
    query = "" if in_body else encoded(fields)
    r = await stack.client.request(
        method,
        f"{path}?{query}" if query else path,
        content=encoded(fields).encode() if in_body else b"",
        headers={"Content-Type": "application/x-www-form-urlencoded"} if in_body else {},
    )
    if method == "HEAD":
        assert r.status_code < 500 and r.content == b""
        return
    assert_http_gateway_shape(r, operation, method)
    event(f"{r.status_code} {legacy_kind(r.text)}")


# -- the XML gateway -------------------------------------------------------------------------------

HOSTILE_XML = [
    b"",
    b"<",
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>',
    b'<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>',
    b"<a>" * 5000 + b"</a>" * 5000,
    b'<?xml version="1.0" encoding="x-unknown"?><r/>',
    b'<?xml version="1.0" encoding="windows-1251"?><request_getstate/>',
    b"<request_sendsms><text>\xff\xfe</text></request_sendsms>",
]
xml_safe_texts = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), max_codepoint=0xFFFF), max_size=40
)


def xml_escaped(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def xml_bodies(draw: st.DrawFn, root: str, acct: TestAccount, sent: list[str]) -> bytes:
    """A valid request document for `root`, each element bent one time in five; sometimes
    bytes that are no such document at all."""
    if rarely(draw):
        return draw(st.one_of(st.sampled_from(HOSTILE_XML), st.binary(max_size=80)))
    valid: dict[str, st.SearchStrategy[str]] = {
        "username": st.just(acct.login),
        "token": st.just(acct.token),
    }
    if root == "request_sendsms":
        valid["from"] = st.just("Shop")
        valid["to"] = st.lists(good_phones, min_size=1, max_size=3).map(";".join)
        valid["text"] = good_texts
    else:
        valid["smscid"] = st.lists(st.sampled_from(sent), min_size=1, max_size=3).map(";".join)
    bent = st.one_of(xml_safe_texts, phones.map(str), ids.map(str), senders, st.just("wrong"))
    elements = []
    for name, strategy in valid.items():
        value = draw(strategy)
        if rarely(draw):
            if draw(st.booleans()):
                continue
            value = draw(bent)
        elements.append((name, value))
    if rarely(draw):
        elements.append((draw(st.sampled_from(["to", "text", "password", "junk"])), draw(bent)))
    children = "".join(
        f"<{name}><![CDATA[{value.replace(']]>', '')}]]></{name}>"
        if draw(st.booleans())
        else f"<{name}>{xml_escaped(value)}</{name}>"
        for name, value in elements
    )
    if rarely(draw):
        root = draw(st.sampled_from(["request_sendsms", "request_getstate", "other"]))
    declaration = draw(st.sampled_from(['<?xml version="1.0" encoding="utf-8"?>', ""]))
    return f"{declaration}<{root}>{children}</{root}>".encode()


def assert_xml_gateway_shape(r: httpx.Response, method: str) -> None:
    assert r.status_code < 500, r.text
    assert r.status_code == (200 if method in {"GET", "POST"} else 405)
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    root = SafeET.fromstring(r.content)
    assert root.tag == "response"
    status = root.findtext("status")
    text = root.findtext("text")
    assert status in {"OK", "ERROR"} and text is not None
    if status == "ERROR":
        assert text.strip() and [child.tag for child in root] == ["status", "text"]
        return
    for mess in root.iter("mess"):
        assert mess.text and mess.text.isdigit() and 0 < int(mess.text) <= MAX_ID
    for state in root.iter("state"):
        assert state.text in STATUSES


@FUZZ
@given(data=st.data())
async def test_the_xml_gateway_answers_everything_in_its_own_shape(
    stack: Stack, acct: TestAccount, sent: list[str], data: st.DataObject
) -> None:
    method = data.draw(methods)
    path = data.draw(st.sampled_from(sorted(XML_PATHS)))
    body = data.draw(xml_bodies(XML_PATHS[path], acct, sent))
    content_type = data.draw(st.sampled_from(["text/xml", "application/xml", "", "text/plain"]))
    r = await stack.client.request(
        method, path, content=body, headers={"Content-Type": content_type} if content_type else {}
    )
    if method == "HEAD":
        assert r.status_code < 500 and r.content == b""
        return
    assert_xml_gateway_shape(r, method)
    event(f"{r.status_code} {root_status(r)}")


def root_status(r: httpx.Response) -> str:
    return SafeET.fromstring(r.content).findtext("status") or ""
