"""The operator's pages (accounts marked admin only): every account with its balance, rate
limit and last day's traffic, top-ups and disabling; one account's sender names and tariffs;
the live view (this node's connectors, bound or not and why, their window and rates, the
routes; every node with its leases; the queue), refetched every few seconds; inbound SMS no
account took.

Refused with 404 to every other account, as if they did not exist. Values are checked with
the rules `smsgate admin` uses (admin/inputs.py), so both say the same about a bad one.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from smsgate.admin.errors import Refused
from smsgate.admin.inputs import checked_prefix, checked_price, checked_sender_name
from smsgate.domain.money import InvalidMoney, parse_money
from smsgate.doors.web import WebReply
from smsgate.gateway.views import TrafficRow
from smsgate.ttl_cache import TtlCache

from .pages import html, query, redirect
from .render import render

if TYPE_CHECKING:
    from .app import Visit

Page = Callable[["Visit", re.Match[str]], Awaitable[WebReply]]
MAX_TOP_UP = 10**6 * 10_000  # one top-up at most a million: a typo must not mint a fortune
USAGE_HOURS = 24
# An account's last day is counted at most once a minute per process: a busy one sent 100,000s.
_USAGE: TtlCache[int, TrafficRow] = TtlCache(60.0, time.monotonic, 100_000)
UNROUTABLE_PAGE = 50
_ACCOUNT = r"/operator/accounts/(\d{1,19})"


def routes() -> list[tuple[str, frozenset[str], Page]]:
    get, post = frozenset({"GET"}), frozenset({"POST"})
    return [
        (r"/operator", get, operator_page),
        (r"/operator/live", get, live_fragment),
        (r"/operator/unroutable", get, unroutable_page),
        (_ACCOUNT, get, account_page),
        (_ACCOUNT + r"/top-up", post, top_up),
        (_ACCOUNT + r"/(disable|enable)", post, set_active),
        (_ACCOUNT + r"/senders", post, add_sender),
        (_ACCOUNT + r"/senders/remove", post, remove_sender),
        (_ACCOUNT + r"/tariffs", post, set_tariff),
        (_ACCOUNT + r"/tariffs/remove", post, remove_tariff),
    ]


def _operator(page: Page) -> Page:
    """The page for operators; a 404 for everyone else."""

    async def guarded(visit: Visit, match: re.Match[str]) -> WebReply:
        if visit.account is None or not visit.account.admin:
            return visit.page("error.html", 404, message="Not found")
        return await page(visit, match)

    return guarded


@_operator
async def operator_page(visit: Visit, match: re.Match[str]) -> WebReply:
    return await _accounts(visit, None, None)


@_operator
async def live_fragment(visit: Visit, match: re.Match[str]) -> WebReply:
    return html(render("_operator_live.html", **await _live(visit)))


@_operator
async def top_up(visit: Visit, match: re.Match[str]) -> WebReply:
    account_id = int(match.group(1))
    text = visit.form.get("amount", "")
    try:
        amount = parse_money(text)
    except InvalidMoney:
        return await _accounts(visit, f"Amount {text!r}: a number like 100 or 12.5.", account_id)
    if not 0 < amount <= MAX_TOP_UP:
        return await _accounts(visit, "Amount: more than 0 and at most 1000000.", account_id)
    if not await _known(visit, account_id):
        return _no_account(visit)
    await visit.operator.top_up(account_id, amount)
    return redirect("/dashboard/operator")


@_operator
async def set_active(visit: Visit, match: re.Match[str]) -> WebReply:
    account_id = int(match.group(1))
    if not await _known(visit, account_id):
        return _no_account(visit)
    assert visit.account is not None
    if account_id == visit.account.id:
        return await _accounts(visit, "You cannot disable your own account here.", account_id)
    await visit.operator.set_active(account_id, match.group(2) == "enable")
    return redirect("/dashboard/operator")


@_operator
async def account_page(visit: Visit, match: re.Match[str]) -> WebReply:
    return await _account(visit, int(match.group(1)), None)


@_operator
async def add_sender(visit: Visit, match: re.Match[str]) -> WebReply:
    account_id = int(match.group(1))
    try:
        name = checked_sender_name(visit.form.get("name", "").strip())
    except Refused as exc:
        return await _account(visit, account_id, str(exc))
    if not await _known(visit, account_id):
        return _no_account(visit)
    await visit.operator.add_sender(account_id, name)
    return redirect(f"/dashboard/operator/accounts/{account_id}")


@_operator
async def remove_sender(visit: Visit, match: re.Match[str]) -> WebReply:
    account_id = int(match.group(1))
    if not await visit.operator.remove_sender(account_id, visit.form.get("name", "")):
        return await _account(visit, account_id, "No such sender name.")
    return redirect(f"/dashboard/operator/accounts/{account_id}")


@_operator
async def set_tariff(visit: Visit, match: re.Match[str]) -> WebReply:
    account_id = int(match.group(1))
    try:
        prefix = checked_prefix(visit.form.get("prefix", ""))
        price = checked_price(visit.form.get("price", "").strip())
    except Refused as exc:
        return await _account(visit, account_id, str(exc))
    if not await _known(visit, account_id):
        return _no_account(visit)
    await visit.operator.set_tariff(account_id, prefix, price)
    return redirect(f"/dashboard/operator/accounts/{account_id}")


@_operator
async def remove_tariff(visit: Visit, match: re.Match[str]) -> WebReply:
    account_id = int(match.group(1))
    if not await visit.operator.remove_tariff(account_id, visit.form.get("prefix", "")):
        return await _account(visit, account_id, "No such tariff.")
    return redirect(f"/dashboard/operator/accounts/{account_id}")


@_operator
async def unroutable_page(visit: Visit, match: re.Match[str]) -> WebReply:
    given = query(visit.request).get("after", "")
    after = int(given) if given.isdigit() and len(given) <= 19 else 0
    found = await visit.operator.unroutable(after, UNROUTABLE_PAGE + 1)
    newer = found[UNROUTABLE_PAGE - 1].id if len(found) > UNROUTABLE_PAGE else None
    return visit.page(
        "unroutable.html", messages=found[:UNROUTABLE_PAGE], newer=newer, paged=after > 0
    )


async def _known(visit: Visit, account_id: int) -> bool:
    return any(s.account.id == account_id for s in await visit.operator.accounts())


def _no_account(visit: Visit) -> WebReply:
    return visit.page("error.html", 404, message="No such account.")


async def _accounts(visit: Visit, error: str | None, error_for: int | None) -> WebReply:
    summaries = await visit.operator.accounts()
    since = time.time() - USAGE_HOURS * 3_600
    usage = {
        s.account.id: await _USAGE.get(
            s.account.id, functools.partial(visit.operator.usage, s.account.id, since)
        )
        for s in summaries
    }
    return visit.page(
        "operator.html",
        400 if error else 200,
        summaries=summaries,
        usage=usage,
        usage_hours=USAGE_HOURS,
        error=error,
        error_for=error_for,
        **await _live(visit),
    )


async def _account(visit: Visit, account_id: int, error: str | None) -> WebReply:
    summary = next((s for s in await visit.operator.accounts() if s.account.id == account_id), None)
    if summary is None:
        return _no_account(visit)
    tariffs = await visit.operator.tariffs(account_id)
    return visit.page(
        "operator_account.html",
        400 if error else 200,
        summary=summary,
        tariffs=sorted(tariffs, key=lambda t: t.prefix),
        error=error,
    )


async def _live(visit: Visit) -> dict[str, object]:
    health = await visit.health()
    reported = health.get("connectors", {})
    connectors = reported if isinstance(reported, dict) else {}
    rates = {name: visit.rates.observe(name, info) for name, info in connectors.items()}
    return {
        "connectors": connectors,
        "rates": rates,
        "routes": visit.routes,
        "nodes": await visit.operator.nodes(),
        "this_node": health.get("node_id"),
        "queued": await visit.operator.queue_depth(),
        "awaiting": await visit.operator.awaiting_receipts(),
        "in_flight": health.get("in_flight", 0),
    }
