"""`admin callbacks`: per-message callbacks given up are listed with their message, status and
URL (without its query), every attempt of one is shown with its status, latency and error,
and dead letters are redelivered by id or all at once."""

from __future__ import annotations

import json
import time

from store.builders import PRICE, new_message, request

from smsgate.domain.status import PartState
from smsgate.gateway.views import MessageCallback
from smsgate.store.records import CALLBACKS, OperatorReceipt, OutboxAttempt, SubmitDone
from smsgate.store.sql_store import SqlStore

from .admin_cli import Admin

URL = "https://shop.example/dlr?token=s3cret"


def dead_callback(admin: Admin, login: str) -> tuple[int, int]:
    """A message of `login` whose callback failed twice, the second time for good."""
    account = admin.account_id(login)

    async def work(store: SqlStore) -> tuple[int, int]:
        await store.top_up(account, 10 * PRICE)
        now = time.time()
        message = new_message(account, now=now, text=f"order {now}", callback=MessageCallback(URL))
        await store.accept(request(account, message, now=now))
        (part,) = await store.claim_parts(1, now, 10, 30.0)
        await store.submitted([SubmitDone(part.part_id, "op", f"A{part.part_id}", now)])
        await store.apply_receipts(
            [OperatorReceipt("op", f"A{part.part_id}", PartState.UNDELIV, 0, now)]
        )
        (item,) = await store.outbox_pending(account, 10, kind=CALLBACKS)
        await store.outbox_attempted(
            [
                OutboxAttempt(item.id, now, None, 5.0, "timed out", now + 60),
                OutboxAttempt(item.id, now + 60, 410, 0.025, "HTTP 410: gone", dead=True),
            ]
        )
        return item.id, message.id

    return admin.store(work)


def test_failed_callbacks_are_listed_with_their_message_and_attempts(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    admin.ok("accounts", "create", "bob")
    item_id, message_id = dead_callback(admin, "alice")
    (letter,) = json.loads(admin.ok("callbacks", "failed", "--json").stdout)
    assert letter["id"] == item_id and letter["login"] == "alice"
    assert (letter["message"], letter["status"], letter["method"]) == (
        str(message_id),
        "UNDELIV",
        "POST",
    )
    assert letter["url"] == "https://shop.example/dlr"  # the query (a token) is not shown
    assert (letter["attempts"], letter["last_error"]) == (2, "HTTP 410: gone")
    table = admin.ok("callbacks", "failed", "alice").stdout
    assert str(message_id) in table and "s3cret" not in table
    assert json.loads(admin.ok("callbacks", "failed", "bob", "--json").stdout) == []
    assert json.loads(admin.ok("webhooks", "failed", "--json").stdout) == []  # not a webhook

    tried = json.loads(admin.ok("callbacks", "attempts", str(item_id), "--json").stdout)
    assert [(a["status"], a["latency_ms"], a["error"]) for a in tried] == [
        (None, 5000.0, "timed out"),
        (410, 25.0, "HTTP 410: gone"),
    ]
    assert "HTTP 410: gone" in admin.ok("callbacks", "attempts", str(item_id)).stdout
    assert "no attempts logged" in admin.refused("callbacks", "attempts", "999")


def test_dead_callbacks_are_redelivered_by_id_or_all(admin: Admin) -> None:
    admin.ok("accounts", "create", "alice")
    first, _ = dead_callback(admin, "alice")
    second, _ = dead_callback(admin, "alice")
    assert "or --all" in admin.refused("callbacks", "redeliver")
    assert "not both" in admin.refused("callbacks", "redeliver", str(first), "--all")
    out = admin.ok("callbacks", "redeliver", str(first), "777").stdout
    assert "redelivering 1 callbacks" in out and "skipped): 777" in out
    (left,) = json.loads(admin.ok("callbacks", "failed", "--json").stdout)
    assert left["id"] == second
    assert "redelivering 1 callbacks" in admin.ok("callbacks", "redeliver", "--all").stdout
    assert json.loads(admin.ok("callbacks", "failed", "--json").stdout) == []
    account = admin.account_id("alice")

    async def pending(store: SqlStore) -> int:
        return len(await store.outbox_pending(account, 10, kind=CALLBACKS))

    assert admin.store(pending) == 2
