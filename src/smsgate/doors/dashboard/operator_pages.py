"""The operator's pages (accounts marked admin only): every account with its balance and rate
limit, a top-up, the connectors live (bound or not, and the last error when not), the queue.

Refused with 404 to every other account, as if they did not exist.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from smsgate.domain.money import InvalidMoney, parse_money
from smsgate.doors.web import WebReply

from .pages import redirect

if TYPE_CHECKING:
    from .app import Visit

Page = Callable[["Visit", re.Match[str]], Awaitable[WebReply]]
MAX_TOP_UP = 10**6 * 10_000  # one top-up at most a million: a typo must not mint a fortune


def routes() -> list[tuple[str, frozenset[str], Page]]:
    return [
        (r"/operator", frozenset({"GET"}), operator_page),
        (r"/operator/accounts/(\d{1,19})/top-up", frozenset({"POST"}), top_up),
    ]


def _refused(visit: Visit) -> WebReply | None:
    if visit.account is None or not visit.account.admin:
        return visit.page("error.html", 404, message="Not found")
    return None


async def operator_page(visit: Visit, match: re.Match[str]) -> WebReply:
    refused = _refused(visit)
    if refused is not None:
        return refused
    return await _page(visit, None, None)


async def top_up(visit: Visit, match: re.Match[str]) -> WebReply:
    refused = _refused(visit)
    if refused is not None:
        return refused
    account_id = int(match.group(1))
    text = visit.form.get("amount", "")
    try:
        amount = parse_money(text)
    except InvalidMoney:
        return await _page(visit, f"Amount {text!r}: a number like 100 or 12.5.", account_id)
    if not 0 < amount <= MAX_TOP_UP:
        return await _page(visit, "Amount: more than 0 and at most 1000000.", account_id)
    known = {s.account.id for s in await visit.self_service.accounts()}
    if account_id not in known:
        return visit.page("error.html", 404, message="No such account.")
    await visit.self_service.top_up(account_id, amount)
    return redirect("/dashboard/operator")


async def _page(visit: Visit, error: str | None, error_for: int | None) -> WebReply:
    summaries = await visit.self_service.accounts()
    health = await visit.health()
    queued = await visit.self_service.queue_depth()
    connectors = health.get("connectors", {})
    return visit.page(
        "operator.html",
        400 if error else 200,
        summaries=summaries,
        connectors=connectors if isinstance(connectors, dict) else {},
        queued=queued,
        in_flight=health.get("in_flight", 0),
        error=error,
        error_for=error_for,
    )
