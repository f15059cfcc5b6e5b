"""`admin webhooks`: endpoints added with a checked URL and a printed secret, listed with their
health, rotated with two secrets at most, removed; dead letters listed with their attempts and
redelivered."""

from __future__ import annotations

import json
import re
import time

from smsgate.store.records import (
    MESSAGE_INBOUND,
    MESSAGE_STATUS,
    WEBHOOKS,
    EndpointHealth,
    NewOutboxItem,
    OutboxAttempt,
)
from smsgate.store.sql_store import SqlStore
from smsgate.webhooks.signing import parse_secret

from .admin_cli import Admin

SECRET_LINE = re.compile(r"secret \(give it to the receiver\): (whsec_\S+)")


def secret_in(stdout: str) -> str:
    match = SECRET_LINE.search(stdout)
    assert match is not None, stdout
    return match.group(1)


def listed(admin: Admin, *args: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(admin.ok("webhooks", "list", *args, "--json").stdout)
    return rows


def test_an_endpoint_is_added_with_a_fresh_secret_listed_and_removed(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    added = admin.ok(
        "webhooks", "add", "alice", "https://example.com/hooks",
        "--event", MESSAGE_STATUS, "--event", MESSAGE_INBOUND,
    )  # fmt: skip
    secret = secret_in(added.stdout)
    parse_secret(secret)  # a whsec_ secret of the right size

    async def stored(store: SqlStore) -> tuple[str, tuple[str, ...]]:
        (endpoint,) = await store.webhook_endpoints()
        return endpoint.secret, endpoint.event_types

    assert admin.store(stored) == (secret, (MESSAGE_STATUS, MESSAGE_INBOUND))
    (row,) = listed(admin, "alice")
    assert row["url"] == "https://example.com/hooks" and row["login"] == "alice"
    assert row["events"] == [MESSAGE_STATUS, MESSAGE_INBOUND] and row["enabled"] is True
    table = admin.ok("webhooks", "list").stdout
    assert "https://example.com/hooks" in table and secret not in table
    admin.ok("webhooks", "remove", str(row["id"]))
    assert listed(admin) == []
    assert "no webhook endpoint" in admin.refused("webhooks", "remove", str(row["id"]))


def test_bad_urls_and_event_types_are_refused_with_the_reason(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    cases = {
        "ftp://example.com/h": "must start with http:// or https://",
        "http://127.0.0.1:8080/h": "loopback",
        "http://10.1.2.3/h": "private",
        "http://localhost/h": "loopback",
        "https://example.com/" + "a" * 2000: "at most 2000",
    }
    for url, why in cases.items():
        line = admin.refused("webhooks", "add", "alice", url)
        assert line.startswith("error: bad webhook URL") and why in line, (url, line)
    line = admin.refused("webhooks", "add", "alice", "https://e.com/h", "--event", "sms.sent")
    assert "unknown event type 'sms.sent'" in line
    assert "bad secret" in admin.refused(
        "webhooks", "add", "alice", "https://e.com/h", "--secret", "hunter2"
    )
    assert "unknown login" in admin.refused("webhooks", "add", "bob", "https://e.com/h")
    assert listed(admin) == []


def test_a_loopback_url_is_taken_when_the_configuration_allows_it(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    result = admin(
        "webhooks", "add", "alice", "http://127.0.0.1:8099/webhook",
        env={"SMSGATE_CALLBACKS__ALLOW_PRIVATE": "true"},
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert [r["url"] for r in listed(admin)] == ["http://127.0.0.1:8099/webhook"]


def test_rotation_signs_with_two_secrets_until_finished(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    old = secret_in(admin.ok("webhooks", "add", "alice", "https://e.com/h").stdout)
    (row,) = listed(admin)
    endpoint_id = str(row["id"])
    assert "not in a rotation" in admin.refused(
        "webhooks", "rotate-secret", endpoint_id, "--finish"
    )
    new = secret_in(admin.ok("webhooks", "rotate-secret", endpoint_id).stdout)

    async def secrets(store: SqlStore) -> tuple[str, str | None]:
        (endpoint,) = await store.webhook_endpoints()
        return endpoint.secret, endpoint.old_secret

    assert admin.store(secrets) == (new, old)
    assert listed(admin)[0]["rotating"] is True
    assert "already rotating" in admin.refused("webhooks", "rotate-secret", endpoint_id)
    admin.ok("webhooks", "rotate-secret", endpoint_id, "--finish")
    assert admin.store(secrets) == (new, None)
    assert "no webhook endpoint 99" in admin.refused("webhooks", "rotate-secret", "99")


def test_a_disabled_endpoint_shows_why_and_is_enabled_again(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("webhooks", "add", "alice", "https://e.com/h")
    (row,) = listed(admin)
    reason = "failing for 24 h without a success: HTTP 500"

    async def disable(store: SqlStore) -> None:
        await store.set_webhook_health(
            int(str(row["id"])), EndpointHealth(time.time() - 86400, time.time(), reason, None)
        )

    admin.store(disable)
    (shown,) = listed(admin)
    assert shown["enabled"] is False and shown["disabled_reason"] == reason
    assert reason in admin.ok("webhooks", "list").stdout
    assert "was disabled" in admin.ok("webhooks", "enable", str(row["id"])).stdout
    (healed,) = listed(admin)
    assert healed["enabled"] is True and healed["failing_since"] is None


def test_dead_letters_are_listed_and_redelivered(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("webhooks", "add", "alice", "https://e.com/h")
    account = admin.account_id("alice")
    payload = '{"endpoint":1,"id":"msg_abc","type":"message.status","timestamp":"t","data":{}}'

    async def dead_one(store: SqlStore) -> int:
        await store.outbox_add([NewOutboxItem(account, WEBHOOKS, time.time(), payload=payload)])
        (item,) = await store.outbox_pending(account, 10, kind=WEBHOOKS)
        await store.outbox_attempted(
            [OutboxAttempt(item.id, time.time(), 404, 0.01, "HTTP 404: no such hook", dead=True)]
        )
        return item.id

    item_id = admin.store(dead_one)
    (letter,) = json.loads(admin.ok("webhooks", "failed", "--json").stdout)
    assert letter["id"] == item_id and letter["webhook_id"] == "msg_abc"
    assert letter["last_error"] == "HTTP 404: no such hook" and letter["login"] == "alice"
    assert "msg_abc" in admin.ok("webhooks", "failed", "alice").stdout
    (tried,) = json.loads(admin.ok("webhooks", "attempts", str(item_id), "--json").stdout)
    assert (tried["status"], tried["latency_ms"]) == (404, 10.0)
    assert tried["error"] == "HTTP 404: no such hook"

    assert "or --all" in admin.refused("webhooks", "redeliver")
    out = admin.ok("webhooks", "redeliver", str(item_id), "12345").stdout
    assert "redelivering 1" in out and "skipped): 12345" in out
    assert json.loads(admin.ok("webhooks", "failed", "--json").stdout) == []

    async def pending(store: SqlStore) -> list[str | None]:
        return [i.payload for i in await store.outbox_pending(account, 10, kind=WEBHOOKS)]

    assert admin.store(pending) == [payload]


def test_redelivery_to_a_disabled_endpoint_asks_to_enable_it_first(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("webhooks", "add", "alice", "https://e.com/h")
    account = admin.account_id("alice")
    payload = '{"endpoint":1,"id":"msg_x","type":"message.status","timestamp":"t","data":{}}'

    async def dead_and_disabled(store: SqlStore) -> None:
        await store.outbox_add([NewOutboxItem(account, WEBHOOKS, time.time(), payload=payload)])
        (item,) = await store.outbox_pending(account, 10, kind=WEBHOOKS)
        await store.outbox_attempted(
            [OutboxAttempt(item.id, time.time(), 500, 0.1, "x", dead=True)]
        )
        await store.set_webhook_health(1, EndpointHealth(1.0, 2.0, "failing", None))

    admin.store(dead_and_disabled)
    assert "enable it first" in admin.refused("webhooks", "redeliver", "--all")
    admin.ok("webhooks", "enable", "1")
    assert "redelivering 1" in admin.ok("webhooks", "redeliver", "--all").stdout
