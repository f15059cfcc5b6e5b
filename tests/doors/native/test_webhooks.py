"""/api/v1/webhooks: an account manages its own webhook endpoints (add with a secret shown once,
list, read, rotate and finish, enable, remove) and its deliveries given up (list, redeliver);
another account's are not found; bad URLs, events and secrets are problems naming the field."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import pytest

from smsgate.store.records import WEBHOOKS, EndpointHealth, NewOutboxItem, OutboxAttempt

if TYPE_CHECKING:
    from tests.conftest import Stack, TestAccount

SECRET = "whsec_" + "A" * 43 + "="


@pytest.fixture
async def acct(stack: Stack) -> TestAccount:
    return await stack.account("alice")


async def add(stack: Stack, acct: TestAccount, **body: object) -> dict[str, object]:
    r = await stack.client.post(
        "/api/v1/webhooks", headers=acct.auth, json={"url": "https://example.com/hook", **body}
    )
    assert r.status_code == 201, r.text
    found: dict[str, object] = r.json()
    return found


async def test_an_endpoint_is_added_listed_rotated_and_removed(
    stack: Stack, acct: TestAccount
) -> None:
    made = await add(stack, acct, events=["message.status.all", "message.inbound"])
    secret = made["secret"]
    assert isinstance(secret, str) and secret.startswith("whsec_")
    assert made["events"] == ["message.status.all", "message.inbound"]
    assert (made["enabled"], made["rotating"], made["failing_since"]) == (True, False, None)
    path = f"/api/v1/webhooks/{made['id']}"

    listed = (await stack.client.get("/api/v1/webhooks", headers=acct.auth)).json()
    assert listed == {"webhooks": [{**made, "secret": None}]}  # the secret is shown only once
    read = await stack.client.get(path, headers=acct.auth)
    assert read.json() == {**made, "secret": None}

    rotated = (await stack.client.post(f"{path}/rotate-secret", headers=acct.auth)).json()
    assert rotated["rotating"] is True and rotated["secret"] not in (None, secret)
    stored = await stack.store.webhook_endpoint(int(str(made["id"])))
    assert stored is not None
    assert (stored.secret, stored.old_secret) == (rotated["secret"], secret)
    again = await stack.client.post(f"{path}/rotate-secret", headers=acct.auth)
    assert again.status_code == 409 and again.json()["type"].endswith("/conflict")

    finished = await stack.client.post(f"{path}/finish-rotation", headers=acct.auth)
    assert finished.status_code == 200
    assert finished.json()["rotating"] is False and finished.json()["secret"] is None
    stored = await stack.store.webhook_endpoint(int(str(made["id"])))
    assert stored is not None and (stored.secret, stored.old_secret) == (rotated["secret"], None)
    twice = await stack.client.post(f"{path}/finish-rotation", headers=acct.auth)
    assert twice.status_code == 409

    gone = await stack.client.delete(path, headers=acct.auth)
    assert gone.status_code == 204 and gone.content == b""
    assert "RateLimit-Remaining" in gone.headers
    assert (await stack.client.get(path, headers=acct.auth)).status_code == 404
    assert (await stack.client.delete(path, headers=acct.auth)).status_code == 404
    assert await stack.store.webhook_endpoints(acct.record.id) == []


async def test_a_secret_of_your_own_and_the_default_event(stack: Stack, acct: TestAccount) -> None:
    made = await add(stack, acct, secret=SECRET)
    assert (made["secret"], made["events"]) == (SECRET, ["message.status"])


async def test_another_accounts_endpoint_is_not_found(stack: Stack, acct: TestAccount) -> None:
    bob = await stack.account("bob")
    theirs = await add(stack, bob)
    path = f"/api/v1/webhooks/{theirs['id']}"
    for method, url in [
        ("GET", path),
        ("DELETE", path),
        ("POST", f"{path}/rotate-secret"),
        ("POST", f"{path}/finish-rotation"),
        ("POST", f"{path}/enable"),
    ]:
        r = await stack.client.request(method, url, headers=acct.auth)
        assert r.status_code == 404, (method, url, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert (await stack.client.get("/api/v1/webhooks", headers=acct.auth)).json() == {
        "webhooks": []
    }
    assert len(await stack.store.webhook_endpoints(bob.record.id)) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1:8080/hook"}, "url"),  # loopback: refused by default
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "https://example.com/h", "events": ["message.sent"]}, "events.0"),
        ({"url": "https://example.com/h", "secret": "not-a-secret"}, "secret"),
        ({"url": "https://example.com/h", "extra": 1}, "extra"),
    ],
)
async def test_bad_fields_are_problems_naming_them(
    stack: Stack, acct: TestAccount, body: dict[str, object], field: str
) -> None:
    r = await stack.client.post("/api/v1/webhooks", headers=acct.auth, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert await stack.store.webhook_endpoints(acct.record.id) == []


async def test_an_account_has_at_most_twenty_endpoints(stack: Stack, acct: TestAccount) -> None:
    for n in range(20):
        await add(stack, acct, url=f"https://example.com/{n}")
    r = await stack.client.post(
        "/api/v1/webhooks", headers=acct.auth, json={"url": "https://example.com/21"}
    )
    assert r.status_code == 409, r.text
    assert len(await stack.store.webhook_endpoints(acct.record.id)) == 20


async def dead_letter(stack: Stack, account_id: int, endpoint_id: int, n: int) -> int:
    payload = json.dumps({"endpoint": endpoint_id, "id": f"msg_{n}", "type": "message.status"})
    await stack.store.outbox_add(
        [NewOutboxItem(account_id, WEBHOOKS, time.time(), payload=payload)]
    )
    pending = await stack.store.outbox_pending(account_id, 100, kind=WEBHOOKS)
    item = next(i for i in pending if i.payload == payload)
    now = time.time()
    await stack.store.outbox_attempted(
        [OutboxAttempt(item.id, now, 500, 0.01, "HTTP 500", dead=True)]
    )
    return item.id


async def test_failed_deliveries_are_listed_and_redelivered_once_enabled(
    stack: Stack, acct: TestAccount
) -> None:
    endpoint = int(str((await add(stack, acct))["id"]))
    first = await dead_letter(stack, acct.record.id, endpoint, 1)
    second = await dead_letter(stack, acct.record.id, endpoint, 2)
    bob = await stack.account("bob")
    theirs = await dead_letter(stack, bob.record.id, int(str((await add(stack, bob))["id"])), 3)

    listed = await stack.client.get("/api/v1/webhooks/failed", headers=acct.auth)
    assert listed.status_code == 200, listed.text
    rows = listed.json()["deliveries"]
    assert [(d["id"], d["endpoint_id"], d["webhook_id"]) for d in rows] == [
        (str(first), str(endpoint), "msg_1"),
        (str(second), str(endpoint), "msg_2"),
    ]
    assert (rows[0]["attempts"], rows[0]["last_error"], rows[0]["type"]) == (
        1,
        "HTTP 500",
        "message.status",
    )

    # Disabled after a day of failures: redelivering into it is refused until it is enabled.
    day = EndpointHealth(time.time() - 86_400, time.time(), "failing for 24 h", None)
    await stack.store.set_webhook_health(endpoint, day)
    shown = (await stack.client.get(f"/api/v1/webhooks/{endpoint}", headers=acct.auth)).json()
    assert (shown["enabled"], shown["disabled_reason"]) == (False, "failing for 24 h")
    refused = await stack.client.post(
        "/api/v1/webhooks/failed/redeliver", headers=acct.auth, json={"ids": [str(first)]}
    )
    assert refused.status_code == 409, refused.text
    enabled = await stack.client.post(f"/api/v1/webhooks/{endpoint}/enable", headers=acct.auth)
    assert (enabled.json()["enabled"], enabled.json()["failing_since"]) == (True, None)

    # Another account's dead letter is not redelivered by this one.
    one = await stack.client.post(
        "/api/v1/webhooks/failed/redeliver",
        headers=acct.auth,
        json={"ids": [str(first), str(theirs), str(first)]},
    )
    assert one.json() == {"redelivered": [str(first)]}
    rest = await stack.client.post("/api/v1/webhooks/failed/redeliver", headers=acct.auth)
    assert rest.json() == {"redelivered": [str(second)]}
    assert (await stack.client.get("/api/v1/webhooks/failed", headers=acct.auth)).json() == {
        "deliveries": []
    }
    queued = await stack.store.outbox_pending(acct.record.id, 10, kind=WEBHOOKS)
    assert sorted(json.loads(q.payload or "")["id"] for q in queued) == ["msg_1", "msg_2"]
    assert [d.item_id for d in await stack.store.dead_letters(WEBHOOKS, bob.record.id)] == [theirs]


async def test_webhook_paths_need_a_token(stack: Stack) -> None:
    for method, url in [
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/webhooks"),
        ("GET", "/api/v1/webhooks/failed"),
        ("GET", "/api/v1/webhooks/1"),
    ]:
        r = await stack.client.request(method, url)
        assert r.status_code == 401, (method, url)
