"""POST /api/v1/messages and POST /api/v1/quote against the real submit path: what each
recipient costs, per-recipient texts and refs, problems with the field at fault, and the
Idempotency-Key (the first answer again, nothing sent twice; another body is a 422)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from smsgate.domain.status import PartState
from smsgate.store.records import OperatorReceipt, SubmitDone

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

PHONE = "380501234567"
PHONE2 = "380671234567"
PROBLEM = "application/problem+json"


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("alice", balance=100 * 10_000)


async def test_one_text_to_two_numbers_answers_ids_parts_and_price(
    stack: Stack, acct: TestAccount
) -> None:
    r = await stack.client.post(
        "/api/v1/messages",
        headers=acct.auth,
        json={"sender": "Shop", "to": [PHONE, PHONE2], "text": "Hi there"},
    )
    assert r.status_code == 201, r.text
    got = r.json()
    assert [m["to"] for m in got["messages"]] == [PHONE, PHONE2]
    assert all(m["id"].isdigit() and m["status"] == "ENROUTE" for m in got["messages"])
    assert {(m["encoding"], m["parts"], m["price"]) for m in got["messages"]} == {
        ("GSM-7", 1, "0.5000")
    }
    assert (got["total_price"], got["balance"], got["currency"]) == ("1.0000", "99.0000", "UAH")
    assert got["rejected"] == []
    assert "RateLimit-Remaining" in r.headers


async def test_personalised_texts_keep_their_refs_and_show_rejections(
    stack: Stack, acct: TestAccount
) -> None:
    long_cyrillic = "Привіт " * 20  # 140 UTF-16 units: 3 parts of 67
    r = await stack.client.post(
        "/api/v1/messages",
        headers=acct.auth,
        json={
            "sender": "Shop",
            "recipients": [
                {"to": PHONE, "text": long_cyrillic, "client_ref": "order-1"},
                {"to": "12", "text": "x", "client_ref": "order-2"},
                {"to": PHONE2, "text": "plain", "client_ref": "order-3"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    got = r.json()
    first, second = got["messages"]
    assert (first["client_ref"], first["encoding"], first["parts"], first["price"]) == (
        "order-1",
        "UCS-2",
        3,
        "1.5000",
    )
    assert (second["client_ref"], second["encoding"], second["parts"]) == ("order-3", "GSM-7", 1)
    assert got["rejected"] == [
        {
            "to": "12",
            "client_ref": "order-2",
            "reason": "Invalid phone number",
            "code": "invalid_phone",
        }
    ]


async def test_the_message_reads_back_with_its_parts(stack: Stack, acct: TestAccount) -> None:
    sent = await stack.client.post(
        "/api/v1/messages",
        headers=acct.auth,
        json={"sender": "Shop", "to": [PHONE], "text": "a" * 200},
    )
    message_id = sent.json()["messages"][0]["id"]
    r = await stack.client.get(f"/api/v1/messages/{message_id}", headers=acct.auth)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["id"], got["to"], got["sender"], got["status"], got["price"]) == (
        message_id,
        PHONE,
        "Shop",
        "ENROUTE",
        "1.0000",
    )
    assert [(p["seq"], p["state"], p["operator_id"]) for p in got["parts"]] == [
        (1, "QUEUED", None),
        (2, "QUEUED", None),
    ]
    assert [(e["type"], e["part"]) for e in got["events"]] == [("accepted", None)]
    assert got["events"][0]["at"] == got["created_at"]


async def test_the_timeline_shows_each_part_submitted_and_ended(
    stack: Stack, acct: TestAccount
) -> None:
    sent = await stack.client.post(
        "/api/v1/messages",
        headers=acct.auth,
        json={"sender": "Shop", "to": [PHONE], "text": "b" * 200},
    )
    message_id = sent.json()["messages"][0]["id"]
    first, second = sorted(
        await stack.store.claim_parts(0, time.time() + 1, 10, 60), key=lambda c: c.part_id
    )
    now = time.time()
    done = [
        SubmitDone(first.part_id, "op", "OP-1", now + 1),
        SubmitDone(second.part_id, "op", "OP-2", now + 2),
    ]
    receipts = [
        OperatorReceipt("op", "OP-2", PartState.UNDELIV, 11, now + 3),
        OperatorReceipt("op", "OP-1", PartState.DELIVRD, 0, now + 4),
    ]
    await stack.store.apply_receipts(receipts, done)
    got = (await stack.client.get(f"/api/v1/messages/{message_id}", headers=acct.auth)).json()
    assert [(e["type"], e["part"], e["operator_id"], e["error"]) for e in got["events"]] == [
        ("accepted", None, None, None),
        ("submitted", 1, "OP-1", None),
        ("submitted", 2, "OP-2", None),
        ("undelivered", 2, None, 11),
        ("delivered", 1, None, None),
    ]
    times = [e["at"] for e in got["events"]]
    assert times == sorted(times)


async def test_another_accounts_message_is_not_found(stack: Stack, acct: TestAccount) -> None:
    other = await stack.account("bob")
    sent = await stack.client.post(
        "/api/v1/messages", headers=acct.auth, json={"sender": "Shop", "to": [PHONE], "text": "x"}
    )
    message_id = sent.json()["messages"][0]["id"]
    r = await stack.client.get(f"/api/v1/messages/{message_id}", headers=other.auth)
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["status"] == 404


async def test_quote_prices_without_sending(stack: Stack, acct: TestAccount) -> None:
    r = await stack.client.post(
        "/api/v1/quote",
        headers=acct.auth,
        json={"sender": "Shop", "to": [PHONE, "bad"], "text": "Price ✓ check €"},
    )
    assert r.status_code == 200, r.text
    got = r.json()
    (line,) = got["recipients"]
    assert (line["encoding"], line["parts"], line["ucs2_characters"]) == ("UCS-2", 1, ["✓"])
    assert (got["total_price"], got["balance"], got["covered"]) == ("0.5000", "100.0000", True)
    assert got["rejected"][0]["code"] == "invalid_phone"
    balance = await stack.client.get("/api/v1/balance", headers=acct.auth)
    assert balance.json()["balance"] == "100.0000"


async def test_quote_says_when_the_balance_does_not_cover(stack: Stack) -> None:
    poor = await stack.account("poor", balance=10_000)
    r = await stack.client.post(
        "/api/v1/quote",
        headers=poor.auth,
        json={"sender": "Shop", "to": [PHONE, PHONE2, "380931234567"], "text": "x"},
    )
    assert (r.json()["total_price"], r.json()["covered"]) == ("1.5000", False)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sender": "Shop", "text": "x"}, "body"),
        ({"sender": "Shop", "to": [], "text": "x"}, "to"),
        ({"sender": "Shop", "to": [PHONE]}, "body"),
        ({"sender": "", "to": [PHONE], "text": "x"}, "sender"),
        ({"sender": "Shop", "to": [PHONE], "text": "x", "valid_for": 5}, "valid_for"),
        ({"sender": "Shop", "recipients": [{"to": PHONE, "text": ""}]}, "recipients.0.text"),
        ({"sender": "Shop", "to": [PHONE], "text": "x", "extra": 1}, "extra"),
        ({"sender": "Nope", "to": [PHONE], "text": "x"}, "sender"),
        ({"sender": "Shop", "to": [PHONE], "text": "a" * 1700}, "text"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field(
    stack: Stack, acct: TestAccount, body: dict[str, object], field: str
) -> None:
    r = await stack.client.post("/api/v1/messages", headers=acct.auth, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["status"] == 422 and problem["title"]
    assert problem["field"] == field


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        ({"to": [PHONE], "text": "a" * 2001}, "text", "at most 2000 characters"),
        ({"to": ["3" * 33], "text": "x"}, "to.0", "at most 32 characters"),
        ({"sender": "S" * 33, "to": [PHONE], "text": "x"}, "sender", "at most 32 characters"),
        (
            {"recipients": [{"to": PHONE, "client_ref": "r" * 65}], "text": "x"},
            "recipients.0.client_ref",
            "at most 64 characters",
        ),
        (
            {"to": [PHONE], "text": "x", "callback_url": "https://a.example/" + "p" * 2000},
            "callback_url",
            "at most 2000 characters",
        ),
    ],
)
async def test_a_value_too_long_is_named_in_characters(
    stack: Stack, acct: TestAccount, body: dict[str, object], field: str, detail: str
) -> None:
    r = await stack.client.post(
        "/api/v1/messages", headers=acct.auth, json={"sender": "Shop", **body}
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["field"] == field
    assert problem["detail"] == f"String should have {detail}"


async def test_unreadable_json_is_a_400_problem(stack: Stack, acct: TestAccount) -> None:
    r = await stack.client.post(
        "/api/v1/messages",
        headers={**acct.auth, "Content-Type": "application/json"},
        content=b'{"sender": ',
    )
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM


async def test_no_token_is_a_401_problem(stack: Stack) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        r = await stack.client.get("/api/v1/balance", headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == PROBLEM
        assert r.headers["www-authenticate"].startswith("Bearer")


async def test_every_recipient_refused_is_a_422_with_the_reasons(stack: Stack) -> None:
    broke = await stack.account("broke", balance=0)
    r = await stack.client.post(
        "/api/v1/messages", headers=broke.auth, json={"sender": "Shop", "to": [PHONE], "text": "x"}
    )
    assert r.status_code == 422
    assert r.json()["rejected"][0]["code"] == "no_money"


async def test_the_same_key_gives_the_first_answer_and_sends_nothing_again(
    stack: Stack, acct: TestAccount
) -> None:
    headers = {**acct.auth, "Idempotency-Key": "k-123"}
    body = {"sender": "Shop", "to": [PHONE], "text": "once"}
    first = await stack.client.post("/api/v1/messages", headers=headers, json=body)
    # Reordered keys are the same body.
    again = await stack.client.post(
        "/api/v1/messages", headers=headers, json={"text": "once", "to": [PHONE], "sender": "Shop"}
    )
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    balance = await stack.client.get("/api/v1/balance", headers=acct.auth)
    assert balance.json()["balance"] == "99.5000"  # one message paid for


async def test_the_same_key_with_another_body_is_a_422(stack: Stack, acct: TestAccount) -> None:
    headers = {**acct.auth, "Idempotency-Key": "k-1"}
    await stack.client.post(
        "/api/v1/messages", headers=headers, json={"sender": "Shop", "to": [PHONE], "text": "a"}
    )
    r = await stack.client.post(
        "/api/v1/messages", headers=headers, json={"sender": "Shop", "to": [PHONE], "text": "b"}
    )
    assert r.status_code == 422
    assert r.json()["field"] == "Idempotency-Key"


async def test_a_refused_send_frees_its_key(stack: Stack, acct: TestAccount) -> None:
    headers = {**acct.auth, "Idempotency-Key": "k-2"}
    body = {"sender": "Nope", "to": [PHONE], "text": "a"}
    assert (
        await stack.client.post("/api/v1/messages", headers=headers, json=body)
    ).status_code == 422
    await stack.store.add_originator(acct.record.id, "Nope")
    r = await stack.client.post("/api/v1/messages", headers=headers, json=body)
    assert r.status_code == 201, r.text


async def test_cancel_before_the_operator_refunds_and_after_it_is_a_409(
    stack: Stack, acct: TestAccount
) -> None:
    from smsgate.store.records import SubmitDone

    body = {"sender": "Shop", "to": [PHONE, PHONE2], "text": "cancel me"}
    sent = await stack.client.post("/api/v1/messages", headers=acct.auth, json=body)
    waiting, taken = (m["id"] for m in sent.json()["messages"])
    claimed = await stack.store.claim_parts(0, time.time() + 1, 10, 30.0)
    part = next(c for c in claimed if str(c.message_id) == taken)
    await stack.store.requeue([c.part_id for c in claimed if c is not part], 0.0)
    await stack.store.submitted([SubmitDone(part.part_id, "op", "X9", 1.0)])

    r = await stack.client.delete(f"/api/v1/messages/{waiting}", headers=acct.auth)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["parts"][0]["state"]) == ("REJECTD", "REJECTD")
    balance = await stack.client.get("/api/v1/balance", headers=acct.auth)
    assert balance.json()["balance"] == "99.5000"  # one refunded, one with the operator

    r = await stack.client.delete(f"/api/v1/messages/{taken}", headers=acct.auth)
    assert (r.status_code, r.headers["content-type"]) == (409, PROBLEM)
    shown = await stack.client.get(f"/api/v1/messages/{taken}", headers=acct.auth)
    assert shown.json()["parts"][0]["operator_id"] == "X9"
    missing = await stack.client.delete("/api/v1/messages/12345", headers=acct.auth)
    assert missing.status_code == 404
