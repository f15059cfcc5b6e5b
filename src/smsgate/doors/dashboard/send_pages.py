"""Send from the dashboard: the form, its live quote (htmx asks on every change), and the send.

The send goes through Gateway.send like every door's (door "web"), so every rule, price and
limit is the same; one recipient leads to its message's page, where the status goes live.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from smsgate.doors.web import WebReply
from smsgate.gateway.errors import AllDuplicates, InvalidRequest, RateLimited
from smsgate.gateway.send_request import MAX_ITEMS, SendItem, SendRequest

from .pages import html, redirect
from .render import render

if TYPE_CHECKING:
    from .app import Visit

DOOR = "web"
_SEPARATORS = re.compile(r"[\s,;]+")

Page = Callable[["Visit", re.Match[str]], Awaitable[WebReply]]


def routes() -> list[tuple[str, frozenset[str], Page]]:
    return [
        (r"/send", frozenset({"GET", "POST"}), send_page),
        (r"/send/quote", frozenset({"POST"}), quote_fragment),
    ]


def recipients(text: str) -> list[str]:
    """Numbers as typed: one per line, or separated by commas, semicolons or spaces."""
    return [phone for phone in _SEPARATORS.split(text.strip()) if phone]


async def send_page(visit: Visit, match: re.Match[str]) -> WebReply:
    assert visit.account is not None
    senders = await visit.gateway.senders(visit.account)
    given = visit.form
    if visit.request.method != "POST":
        return _form(visit, senders, {}, None)
    phones = recipients(given.get("phones", ""))
    error = None
    if not phones:
        error = "Recipients: at least one phone number."
    elif len(phones) > MAX_ITEMS:
        error = f"Recipients: at most {MAX_ITEMS} numbers at once."
    if error is not None:
        return _form(visit, senders, given, error, 400)
    request = SendRequest(
        sender=given.get("sender", ""),
        items=[SendItem(phone, given.get("text", "")) for phone in phones],
        door=DOOR,
    )
    try:
        outcome = await visit.gateway.send(visit.account, request)
    except InvalidRequest as exc:
        return _form(visit, senders, given, f"{exc.field.capitalize()}: {exc.reason}.", 400)
    except RateLimited as exc:
        message = f"Too many requests: try again in {exc.retry_after:.1f} s."
        return _form(visit, senders, given, message, 429)
    except AllDuplicates:
        message = "The same text went to these numbers less than 2 minutes ago."
        return _form(visit, senders, given, message, 409)
    if not outcome.accepted:
        refused = "; ".join(f"{phone}: {why}" for phone, why in outcome.rejected)
        return _form(visit, senders, given, f"Nothing sent. {refused}.", 400)
    if len(outcome.accepted) == 1 and not outcome.rejected:
        return redirect(f"/dashboard/messages/{outcome.accepted[0][0]}")
    return visit.page("sent.html", accepted=outcome.accepted, rejected=outcome.rejected)


async def quote_fragment(visit: Visit, match: re.Match[str]) -> WebReply:
    assert visit.account is not None
    phones = recipients(visit.form.get("phones", ""))[:MAX_ITEMS]
    found = await visit.gateway.quote(visit.account, phones, visit.form.get("text", ""))
    return html(render("_quote.html", quote=found, recipients=len(phones)))


def _form(
    visit: Visit,
    senders: list[str],
    given: dict[str, str],
    error: str | None,
    status: int = 200,
) -> WebReply:
    return visit.page(
        "send.html",
        status,
        senders=senders,
        chosen=given.get("sender", senders[0] if senders else ""),
        phones=given.get("phones", ""),
        text=given.get("text", ""),
        error=error,
    )
