"""The account's webhooks page: its endpoints and their health, and every delivery that failed
(webhooks and per-message callbacks) with its attempts and a button that sends it again.

Reads and redelivers only through SelfService, which answers a delivery of another account
like an unknown one (404 here).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from smsgate.doors.web import WebReply
from smsgate.gateway.self_service import DELIVERY_KINDS
from smsgate.gateway.views import WEBHOOKS, DeadLetter
from smsgate.immutable import record

from .pages import redirect

if TYPE_CHECKING:
    from .app import Visit

Page = Callable[["Visit", re.Match[str]], Awaitable[WebReply]]
_KINDS = "|".join(DELIVERY_KINDS)


@record
class Delivery:
    """A failed delivery as the pages list it: what it was for and where it went."""

    kind: str
    item_id: int
    what: str  # the webhook's event type, or the callback's status
    target: str  # endpoint N, or the callback's URL without its query (customers' tokens)
    message_id: int | None
    dead_at: float
    attempts: int
    last_error: str | None


def described(letter: DeadLetter) -> Delivery:
    try:
        payload = json.loads(letter.payload or "")
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        payload = {}
    if letter.kind == WEBHOOKS:
        what = str(payload.get("type", "webhook"))
        target = f"endpoint {payload.get('endpoint', '?')}"
    else:
        what = letter.status or "callback"
        target = str(payload.get("url", "")).split("?", 1)[0]
    return Delivery(
        letter.kind,
        letter.item_id,
        what,
        target,
        letter.message_id,
        letter.dead_at,
        letter.attempts,
        letter.last_error,
    )


def routes() -> list[tuple[str, frozenset[str], Page]]:
    return [
        (r"/webhooks", frozenset({"GET"}), webhooks_page),
        (rf"/deliveries/({_KINDS})/(\d{{1,19}})", frozenset({"GET"}), delivery_page),
        (rf"/deliveries/({_KINDS})/(\d{{1,19}})/redeliver", frozenset({"POST"}), redeliver),
    ]


async def webhooks_page(visit: Visit, match: re.Match[str]) -> WebReply:
    assert visit.account is not None
    endpoints = await visit.self_service.webhook_endpoints(visit.account)
    failed = [
        described(letter)
        for kind in DELIVERY_KINDS
        for letter in await visit.self_service.failed_deliveries(visit.account, kind)
    ]
    failed.sort(key=lambda letter: letter.dead_at, reverse=True)
    redelivered = visit.request.query_string.decode("latin-1") == "redelivered=1"
    return visit.page("webhooks.html", endpoints=endpoints, failed=failed, redelivered=redelivered)


async def delivery_page(visit: Visit, match: re.Match[str]) -> WebReply:
    assert visit.account is not None
    kind, item_id = match.group(1), int(match.group(2))
    found = await visit.self_service.failed_delivery(visit.account, kind, item_id)
    if found is None:
        return visit.page("error.html", 404, message="No such failed delivery.")
    letter, attempts = found
    return visit.page("delivery.html", delivery=described(letter), attempts=attempts)


async def redeliver(visit: Visit, match: re.Match[str]) -> WebReply:
    assert visit.account is not None
    kind, item_id = match.group(1), int(match.group(2))
    if not await visit.self_service.redeliver(visit.account, kind, item_id):
        return visit.page("error.html", 404, message="No such failed delivery.")
    return redirect("/dashboard/webhooks?redelivered=1")
