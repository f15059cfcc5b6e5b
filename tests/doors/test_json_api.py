"""The JSON API door against the real submit path: every field of the contract, every error
shape, and bad input of every kind."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.domain.status import PartState
from smsgate.doors.json_api import _list_of_scalars, _scalar
from smsgate.store.records import SubmitDone

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount


PHONE = "380501234567"
PHONE2 = "380671234567"


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("alice")


async def post(
    stack: Stack, path: str, acct: TestAccount | None, body: object = None, **kw: object
):
    headers = dict(acct.auth) if acct else {}
    headers.update(kw.pop("headers", {}))  # type: ignore[arg-type]
    if body is not None and "content" not in kw:
        kw["content"] = orjson.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    return await stack.client.post(path, headers=headers, **kw)  # type: ignore[arg-type]


async def test_send_answers_one_id_per_recipient(stack: Stack, acct: TestAccount) -> None:
    r = await post(
        stack, "/sms/send", acct, {"phone": [PHONE, PHONE2], "message": "Hi", "src_addr": "Shop"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    info = r.json()["success_request"]["info"]
    assert sorted(info.values()) == sorted([PHONE, PHONE2])
    assert all(k.isdigit() for k in info)
    assert "add_info" not in r.json()["success_request"]


async def test_send_envelope_is_byte_exact(stack: Stack, acct: TestAccount) -> None:
    r = await post(
        stack, "/sms/send", acct, {"phone": [PHONE], "message": "Hi", "src_addr": "Shop"}
    )
    (message_id,) = r.json()["success_request"]["info"]
    assert r.content == b'{"success_request":{"info":{"%s":"%s"}}}' % (
        message_id.encode(),
        PHONE.encode(),
    )


async def test_invalid_phone_rides_in_add_info_beside_successes(
    stack: Stack, acct: TestAccount
) -> None:
    r = await post(
        stack, "/sms/send", acct, {"phone": [PHONE, "38050"], "message": "Hi", "src_addr": "Shop"}
    )
    body = r.json()["success_request"]
    assert r.status_code == 200
    assert list(body["info"].values()) == [PHONE]
    assert body["add_info"] == {"38050": "Invalid phone number"}


async def test_nothing_accepted_has_add_info_only(stack: Stack, acct: TestAccount) -> None:
    r = await post(stack, "/sms/send", acct, {"phone": ["12"], "message": "Hi", "src_addr": "Shop"})
    assert r.status_code == 200
    assert r.json() == {"success_request": {"add_info": {"12": "Invalid phone number"}}}


async def test_phones_given_as_integers_and_national_form(stack: Stack, acct: TestAccount) -> None:
    r = await post(
        stack,
        "/sms/send",
        acct,
        {"phone": [380501234567, "0671234567"], "message": "Hi", "src_addr": "Shop"},
    )
    assert sorted(r.json()["success_request"]["info"].values()) == ["0671234567", PHONE]


async def test_form_encoded_body_is_accepted(stack: Stack, acct: TestAccount) -> None:
    form = f"phone[0]={PHONE}&phone[1]={PHONE2}&message=Hello&src_addr=Shop".encode()
    r = await post(
        stack,
        "/sms/send",
        acct,
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200
    assert sorted(r.json()["success_request"]["info"].values()) == [PHONE, PHONE2]


async def test_v2_sends_personal_texts(stack: Stack, acct: TestAccount) -> None:
    body = {
        "src_addr": "Shop",
        "data_message": [{"phone": PHONE, "message": "A"}, {"phone": PHONE2, "message": "B"}],
    }
    r = await post(stack, "/v2/sms/send", acct, body)
    info = r.json()["success_request"]["info"]
    assert sorted(info.values()) == [PHONE, PHONE2]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": "Hi", "src_addr": "Shop"}, "phone"),
        ({"phone": [], "message": "Hi", "src_addr": "Shop"}, "phone"),
        ({"phone": [PHONE], "src_addr": "Shop"}, "message"),
        ({"phone": [PHONE], "message": "", "src_addr": "Shop"}, "message"),
        ({"phone": [PHONE], "message": "Hi"}, "src_addr"),
        ({"phone": [PHONE], "message": "Hi", "src_addr": "Nobody"}, "src_addr"),
        (
            {"phone": [f"38050{i:07d}" for i in range(101)], "message": "Hi", "src_addr": "Shop"},
            "phone",
        ),
        ({"phone": [PHONE], "message": "Hi", "src_addr": "Shop", "lifetime": "soon"}, "lifetime"),
        ({"phone": [PHONE], "message": "Hi", "src_addr": "Shop", "lifetime": -5}, "lifetime"),
        ({"phone": [PHONE], "message": {"x": 1}, "src_addr": "Shop"}, "message"),
    ],
)
async def test_request_validation_is_400_keyed_by_field(
    stack: Stack, acct: TestAccount, body: object, field: str
) -> None:
    r = await post(stack, "/sms/send", acct, body)
    assert r.status_code == 400
    add_info = r.json()["success_request"]["add_info"]
    assert list(add_info) == [field]
    assert add_info[field]


async def test_v2_over_100_items_is_400(stack: Stack, acct: TestAccount) -> None:
    items = [{"phone": f"38050{i:07d}", "message": "x"} for i in range(101)]
    r = await post(stack, "/v2/sms/send", acct, {"src_addr": "Shop", "data_message": items})
    assert r.status_code == 400
    assert list(r.json()["success_request"]["add_info"]) == ["data_message"]


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer "])
async def test_bad_credentials_are_401_top_level(
    stack: Stack, acct: TestAccount, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    r = await stack.client.post("/sms/balance", headers=headers)
    assert r.status_code == 401
    assert r.json() == {
        "name": "Unauthorized",
        "message": "Your request was made with invalid credentials.",
        "code": 0,
        "status": 401,
    }


async def test_disabled_account_is_401(stack: Stack, acct: TestAccount) -> None:
    await stack.store.set_active(acct.record.id, False)
    r = await post(stack, "/sms/balance", acct)
    assert r.status_code == 401


async def test_rate_limit_is_429_with_retry_after(stack: Stack) -> None:
    limited = await stack.account("bob", rate_limit=2)
    codes = []
    for _ in range(4):
        r = await post(
            stack, "/sms/send", limited, {"phone": [PHONE], "message": f"x{_}", "src_addr": "Shop"}
        )
        codes.append(r.status_code)
    assert 429 in codes
    r429 = r
    assert r429.status_code == 429
    assert int(r429.headers["retry-after"]) >= 1
    assert r429.json() == {
        "name": "Too Many Requests",
        "message": "Rate limit exceeded.",
        "code": 0,
        "status": 429,
    }


@pytest.mark.parametrize("path", ["/sms/balance", "/sms/originator", "/sms/status"])
async def test_every_request_is_rate_limited_not_only_sends(stack: Stack, path: str) -> None:
    """A burst of 30 queries at a 9/s limit: the bucket's 9 pass, the rest are 429 with a
    Retry-After, in the door's own JSON shape."""
    limited = await stack.account("bob", rate_limit=9)
    body = {"id_sms": ["1"]} if path == "/sms/status" else None
    started = time.monotonic()
    codes = [(await post(stack, path, limited, body)) for _ in range(30)]
    refilled = 9 * (time.monotonic() - started)  # tokens back during the burst, at most
    assert [r.status_code for r in codes[:9]] == [200] * 9
    refused = [r for r in codes if r.status_code != 200]
    assert refused and 30 - len(refused) <= 9 + refilled + 1
    for r in refused:
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        assert r.json() == {
            "name": "Too Many Requests",
            "message": "Rate limit exceeded.",
            "code": 0,
            "status": 429,
        }


async def test_queries_and_sends_spend_one_bucket(stack: Stack) -> None:
    limited = await stack.account("bob", rate_limit=2)
    assert (await post(stack, "/sms/balance", limited)).status_code == 200
    assert (await post(stack, "/sms/balance", limited)).status_code == 200
    sent = await post(
        stack, "/sms/send", limited, {"phone": [PHONE], "message": "x", "src_addr": "Shop"}
    )
    assert sent.status_code == 429


async def test_duplicate_within_two_minutes_is_rejected(stack: Stack, acct: TestAccount) -> None:
    body = {"phone": [PHONE, PHONE2], "message": "Same", "src_addr": "Shop"}
    first = await post(
        stack, "/sms/send", acct, {"phone": [PHONE], "message": "Same", "src_addr": "Shop"}
    )
    assert first.status_code == 200
    r = await post(stack, "/sms/send", acct, body)
    assert r.status_code == 200
    body_json = r.json()["success_request"]
    assert list(body_json["info"].values()) == [PHONE2]
    assert body_json["add_info"] == {PHONE: "Doubled SMS in less than 2 minutes"}


async def test_all_duplicates_is_453(stack: Stack, acct: TestAccount) -> None:
    body = {"phone": [PHONE], "message": "Again", "src_addr": "Shop"}
    await post(stack, "/sms/send", acct, body)
    r = await post(stack, "/sms/send", acct, body)
    assert r.status_code == 453
    assert r.json()["status"] == 453 and r.json()["name"] == "Duplicate" and r.json()["code"] == 0


async def test_insufficient_balance_rejects_recipients_with_reason(stack: Stack) -> None:
    poor = await stack.account("poor", balance=5_000)  # one part's worth
    r = await post(
        stack, "/sms/send", poor, {"phone": [PHONE, PHONE2], "message": "Hi", "src_addr": "Shop"}
    )
    body = r.json()["success_request"]
    assert list(body["info"].values()) == [PHONE]
    assert body["add_info"] == {PHONE2: "Insufficient balance"}


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe\x00garbage",
        b'"just a string"',
        b"42",
        b"[1,2]",
        b'{"phone": "\xc3\x28"}',
    ],
)
async def test_garbage_bodies_get_400_not_500(
    stack: Stack, acct: TestAccount, content: bytes
) -> None:
    r = await post(
        stack, "/sms/send", acct, content=content, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert "add_info" in r.json()["success_request"]


async def test_huge_body_is_refused_in_the_door_format(stack: Stack, acct: TestAccount) -> None:
    r = await post(stack, "/sms/send", acct, content=b"{" + b" " * 300_000 + b"}")
    assert r.status_code == 413
    assert r.json()["status"] == 413


@pytest.mark.parametrize("content", [b"", b"[]", b"{}"])
async def test_empty_bodies_are_accepted_where_no_body_is_needed(
    stack: Stack, acct: TestAccount, content: bytes
) -> None:
    r = await post(stack, "/sms/balance", acct, content=content)
    assert r.status_code == 200
    assert r.json() == {"success_request": {"info": {"money": "1000.0000", "currency": "UAH"}}}


async def test_get_is_405_in_the_api_shape(stack: Stack, acct: TestAccount) -> None:
    r = await stack.client.get("/sms/balance", headers=acct.auth)
    assert r.status_code == 405
    assert r.json()["status"] == 405


async def test_balance_reflects_reserved_money(stack: Stack, acct: TestAccount) -> None:
    await post(stack, "/sms/send", acct, {"phone": [PHONE], "message": "Hi", "src_addr": "Shop"})
    r = await post(stack, "/sms/balance", acct)
    assert r.json()["success_request"]["info"] == {"money": "999.5000", "currency": "UAH"}


async def test_originator_lists_active_sender_names(stack: Stack, acct: TestAccount) -> None:
    await stack.store.add_originator(acct.record.id, "Promo")
    r = await post(stack, "/sms/originator", acct)
    assert sorted(r.json()["success_request"]["info"]) == ["Promo", "Shop"]


async def test_status_reports_enroute_then_final(stack: Stack, acct: TestAccount) -> None:
    r = await post(
        stack, "/sms/send", acct, {"phone": [PHONE], "message": "Hi", "src_addr": "Shop"}
    )
    (mid,) = r.json()["success_request"]["info"]
    r = await post(stack, "/sms/status", acct, {"id_sms": [mid]})
    assert r.json() == {"success_request": {"info": {mid: "ENROUTE"}}}
    parts = await stack.store.claim_parts(0, time.time() + 1, 10, 60)
    assert parts
    await stack.store.submitted(
        [SubmitDone(p.part_id, "op", f"op-{p.part_id}", 1.0) for p in parts]
    )
    from smsgate.store.records import OperatorReceipt

    await stack.store.apply_receipts(
        [OperatorReceipt("op", f"op-{p.part_id}", PartState.DELIVRD, 0, 2.0) for p in parts]
    )
    r = await post(stack, "/sms/status", acct, {"id_sms": [int(mid)]})
    assert r.json() == {"success_request": {"info": {mid: "DELIVRD"}}}


async def test_status_of_unknown_and_foreign_ids_is_indistinguishable(
    stack: Stack, acct: TestAccount
) -> None:
    other = await stack.account("eve")
    r = await post(
        stack, "/sms/send", other, {"phone": [PHONE], "message": "Hi", "src_addr": "Shop"}
    )
    (foreign,) = r.json()["success_request"]["info"]
    r = await post(stack, "/sms/status", acct, {"id_sms": [foreign, "999", "abc"]})
    assert r.status_code == 200
    assert r.json() == {
        "success_request": {
            "add_info": {
                foreign: "Message not found",
                "999": "Message not found",
                "abc": "Message not found",
            }
        }
    }


async def test_status_validation(stack: Stack, acct: TestAccount) -> None:
    r = await post(stack, "/sms/status", acct, {})
    assert r.status_code == 400 and list(r.json()["success_request"]["add_info"]) == ["id_sms"]
    r = await post(stack, "/sms/status", acct, {"id_sms": [str(i) for i in range(1, 102)]})
    assert r.status_code == 400 and list(r.json()["success_request"]["add_info"]) == ["id_sms"]


async def test_unknown_fields_are_ignored(stack: Stack, acct: TestAccount) -> None:
    r = await post(
        stack,
        "/sms/send",
        acct,
        {"phone": [PHONE], "message": "Hi", "src_addr": "Shop", "foo": [1]},
    )
    assert r.status_code == 200


async def test_one_account_never_touches_anothers_balance(stack: Stack, acct: TestAccount) -> None:
    other = await stack.account("mallory", balance=10_000)
    await post(stack, "/sms/send", acct, {"phone": [PHONE], "message": "Hi", "src_addr": "Shop"})
    r = await post(stack, "/sms/balance", other)
    assert r.json()["success_request"]["info"]["money"] == "1.0000"


async def test_text_longer_than_ten_parts_is_refused(stack: Stack, acct: TestAccount) -> None:
    r = await post(
        stack, "/sms/send", acct, {"phone": [PHONE], "message": "x" * 1531, "src_addr": "Shop"}
    )
    assert r.status_code == 400
    assert list(r.json()["success_request"]["add_info"]) == ["message"]
    ok = await post(
        stack, "/sms/send", acct, {"phone": [PHONE], "message": "x" * 1530, "src_addr": "Shop"}
    )
    assert ok.status_code == 200


async def test_destination_without_tariff_is_rejected_with_reason(stack: Stack) -> None:
    from smsgate.store.records import Tariff

    acct = await stack.account("priced")
    await stack.store.remove_tariff(None, "")
    await stack.store.set_tariff(Tariff(account_id=acct.record.id, prefix="38067", price=100))
    r = await post(
        stack, "/sms/send", acct, {"phone": [PHONE, PHONE2], "message": "Hi", "src_addr": "Shop"}
    )
    body = r.json()["success_request"]
    assert list(body["info"].values()) == [PHONE2]
    assert body["add_info"] == {PHONE: "No tariff for destination"}


@pytest.mark.parametrize(
    ("path", "head"),
    [
        ("/sms/send", b'{"phone":["380501234567"],"message":"Hi'),
        ("/http/", b"username=alice&password={password}&from=Shop&to=380501234567&text=Hi"),
        ("/xml/", b"<?xml version='1.0'?><request_sendsms><username>alice</username>"),
    ],
)
async def test_a_body_cut_off_by_a_disconnect_is_never_acted_on(
    stack: Stack, acct: TestAccount, path: str, head: bytes
) -> None:
    """An ASGI server reports a client that left mid-upload as http.disconnect; what came
    before it (a text cut short, a truncated recipient list) must not be sent."""
    sent: list[dict[str, object]] = []
    messages = iter(
        [
            {
                "type": "http.request",
                "body": head.replace(b"{password}", acct.password.encode()),
                "more_body": True,
            },
            {"type": "http.disconnect"},
        ]
    )

    async def receive() -> dict[str, object]:
        return next(messages)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": b"",
        "headers": [*((k.lower().encode(), v.encode()) for k, v in acct.auth.items())],
    }
    before = await stack.store.balance(acct.record.id)
    await stack.app(scope, receive, send)
    assert sent == []  # nobody to answer, and nothing was done
    assert await stack.store.balance(acct.record.id) == before


async def test_an_unexpected_error_answers_in_each_doors_own_format(
    stack: Stack, acct: TestAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(stack.gateway, "balance", broken)
    monkeypatch.setattr(stack.gateway, "status", broken)
    state = (
        f"<request_getstate><username>{acct.login}</username><password>{acct.password}"
        "</password><smscid>1</smscid></request_getstate>"
    ).encode()
    transport = httpx.ASGITransport(app=stack.app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.post("/sms/balance", headers=acct.auth)
        xml = await client.post("/xml/state.php", content=state)
    assert r.status_code == 500
    assert r.json() == {
        "name": "Internal Server Error",
        "message": "An internal server error occurred.",
        "code": 0,
        "status": 500,
    }
    assert "disk on fire" not in r.text
    assert xml.status_code == 200
    assert xml.text.endswith(
        "<response><status>ERROR</status><text>Internal server error</text></response>"
    )


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)  # what orjson reads
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(" 0123456789+()-a"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


@given(st.one_of(_JSON_VALUES, st.lists(_JSON_VALUES, max_size=8)))
def test_phone_lists_are_read_as_the_scalar_rule_says(value: object) -> None:
    values = value if isinstance(value, list) else [value]
    expected = [] if value is None or value == "" else [s for s in map(_scalar, values) if s]
    assert _list_of_scalars(value) == expected


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "GET", "OPTIONS"])
async def test_other_methods_on_api_paths_are_405_in_the_api_shape(
    stack: Stack, acct: TestAccount, method: str
) -> None:
    r = await stack.client.request(method, "/sms/send", headers=acct.auth, json={})
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/json"
    assert r.headers["allow"] == "POST"
    assert r.json() == {
        "name": "Method Not Allowed",
        "message": "Method Not Allowed. This URL can only handle: POST.",
        "code": 0,
        "status": 405,
    }


@pytest.mark.parametrize("path", ["/sms/nowhere", "/sms/", "/sms", "/v2/sms/status"])
async def test_unknown_paths_of_the_api_are_404_in_the_api_shape(
    stack: Stack, acct: TestAccount, path: str
) -> None:
    for method in ("POST", "PUT"):
        r = await stack.client.request(method, path, headers=acct.auth)
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/json"
        assert r.json() == {
            "name": "Not Found",
            "message": "Page not found.",
            "code": 0,
            "status": 404,
        }


async def test_a_null_body_reads_as_an_empty_one(stack: Stack, acct: TestAccount) -> None:
    r = await post(stack, "/sms/balance", acct, content=b"null")
    assert r.status_code == 200
    assert r.json()["success_request"]["info"]["money"] == "1000.0000"
    r = await post(stack, "/sms/send", acct, content=b" null ")
    assert r.status_code == 400
    assert r.json() == {"success_request": {"add_info": {"phone": "Phone numbers are required"}}}


SURROGATE_REASON = "Text is not valid Unicode (a lone UTF-16 surrogate escape)"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/sms/send",
            rb'{"phone": ["380501234567"], "message": "Hi \ud800", "src_addr": "Shop"}',
            "message",
        ),
        ("/sms/send", rb'{"phone": ["\udfff"], "message": "Hi", "src_addr": "Shop"}', "phone"),
        (
            "/sms/send",
            rb'{"phone": ["380501234567"], "message": "Hi", "src_addr": "\ud83d"}',
            "src_addr",
        ),
        (
            "/v2/sms/send",
            rb'{"src_addr": "Shop", "data_message": [{"phone": "380501234567",'
            rb' "message": "\ud800x"}]}',
            "message",
        ),
        ("/sms/status", rb'{"id_sms": ["1\udc00"]}', "id_sms"),
    ],
)
async def test_a_lone_surrogate_escape_is_valid_json_and_gets_the_fields_error(
    stack: Stack, acct: TestAccount, path: str, body: bytes, field: str
) -> None:
    r = await post(stack, path, acct, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json() == {"success_request": {"add_info": {field: SURROGATE_REASON}}}


@pytest.mark.parametrize("body", [b'{"message": NaN}', b'{"message": "\\ud800"', b"[\xff]"])
async def test_bodies_that_are_not_json_stay_not_json(
    stack: Stack, acct: TestAccount, body: bytes
) -> None:
    r = await post(
        stack, "/sms/send", acct, content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json() == {
        "success_request": {"add_info": {"request": "Request body is not valid JSON"}}
    }


async def test_a_paired_surrogate_escape_is_ordinary_text(stack: Stack, acct: TestAccount) -> None:
    body = rb'{"phone": ["380501234567"], "message": "Hi \ud83d\ude00", "src_addr": "Shop"}'
    r = await post(stack, "/sms/send", acct, content=body)
    assert r.status_code == 200
    assert list(r.json()["success_request"]["info"].values()) == ["380501234567"]


async def test_send_with_an_idempotency_key_answers_the_first_answer_again(
    stack: Stack, acct: TestAccount
) -> None:
    body = {"phone": [PHONE], "message": "Once", "src_addr": "Shop"}
    headers = {"Idempotency-Key": "legacy-1"}
    first = await post(stack, "/sms/send", acct, body, headers=headers)
    # Without the key the same text within 2 minutes is a duplicate; with it, the first answer.
    again = await post(stack, "/sms/send", acct, body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert len(first.json()["success_request"]["info"]) == 1
    other = await post(stack, "/sms/send", acct, {**body, "message": "Other"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["name"] == "Unprocessable Entity"


async def test_a_refused_send_does_not_keep_its_idempotency_key(
    stack: Stack, acct: TestAccount
) -> None:
    headers = {"Idempotency-Key": "legacy-2"}
    body = {"phone": [PHONE], "message": "Hi"}
    refused = await post(stack, "/sms/send", acct, body, headers=headers)
    assert refused.status_code == 400
    assert (await post(stack, "/sms/send", acct, body, headers=headers)).status_code == 400
    bad_key = await post(
        stack, "/sms/send", acct, {**body, "src_addr": "Shop"}, headers={"Idempotency-Key": " x"}
    )
    assert bad_key.json() == {
        "success_request": {
            "add_info": {"Idempotency-Key": "Idempotency-Key must not start or end in space"}
        }
    }
