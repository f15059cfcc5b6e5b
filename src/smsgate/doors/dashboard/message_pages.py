"""The customer's message log: the list with its filters, one message, and its live status.

Reads only through Gateway.search, which never returns another account's message: a message
id of another account is answered exactly like an unknown one (404).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from smsgate.domain.status import Status
from smsgate.doors.web import WebReply
from smsgate.gateway.views import MessageFilter, MessageLine

from .pages import html, query
from .render import render

if TYPE_CHECKING:
    from .app import Visit

PAGE_SIZE = 25
DOORS = ("json", "http", "xml", "smpp", "web")
FILTERS = ("phone", "status", "sender", "door", "since", "until")
_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?")

Page = Callable[["Visit", re.Match[str]], Awaitable[WebReply]]


def routes() -> list[tuple[str, frozenset[str], Page]]:
    get = frozenset({"GET"})
    return [
        (r"/messages", get, message_log),
        (r"/messages/(\d{1,19})", get, message_page),
        (r"/messages/(\d{1,19})/status", get, message_status),
    ]


class BadFilter(ValueError):
    """A filter the log cannot apply; its message says which and why."""


def parse_filter(given: dict[str, str]) -> MessageFilter:
    phone = given.get("phone", "").strip().lstrip("+")
    if phone and not phone.isdigit():
        raise BadFilter("Phone: digits only (a number or its beginning).")
    status = given.get("status", "")
    if status and status not in Status.__members__:
        raise BadFilter(f"Status: one of {', '.join(Status)}.")
    door = given.get("door", "")
    if door and door not in DOORS:
        raise BadFilter(f"Door: one of {', '.join(DOORS)}.")
    before = given.get("before", "")
    if before and not (before.isdigit() and len(before) <= 19):
        raise BadFilter("Page: not a message id.")
    return MessageFilter(
        phone=phone or None,
        status=Status(status) if status else None,
        sender=given.get("sender", "").strip() or None,
        door=door or None,
        since=_time("From", given.get("since", "")),
        until=_time("To", given.get("until", "")),
        before_id=int(before) if before else None,
    )


def _time(label: str, text: str) -> float | None:
    """A UTC time as the browser's datetime-local field sends it."""
    text = text.strip()
    if not text:
        return None
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise BadFilter(f"{label}: a time like 2026-01-31T23:59 (UTC).")
    year, month, day, hour, minute, second = (int(v) if v else 0 for v in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()
    except ValueError as exc:
        raise BadFilter(f"{label}: not a real time.") from exc


async def message_log(visit: Visit, match: re.Match[str]) -> WebReply:
    assert visit.account is not None
    given = query(visit.request)
    shown = {key: given.get(key, "") for key in FILTERS}
    try:
        where = parse_filter(given)
    except BadFilter as exc:
        return visit.page(
            "messages.html",
            400,
            lines=[],
            error=str(exc),
            shown=shown,
            older=None,
            statuses=list(Status),
            doors=DOORS,
            paged=False,
        )
    lines = await visit.gateway.search(visit.account, where, PAGE_SIZE + 1)
    older = None
    if len(lines) > PAGE_SIZE:
        lines = lines[:PAGE_SIZE]
        kept = {key: value for key, value in shown.items() if value}
        older = "?" + urlencode({**kept, "before": lines[-1].id})
    return visit.page(
        "messages.html",
        lines=lines,
        error=None,
        shown=shown,
        older=older,
        statuses=list(Status),
        doors=DOORS,
        paged=where.before_id is not None,
    )


async def message_page(visit: Visit, match: re.Match[str]) -> WebReply:
    line = await _one(visit, match)
    if line is None:
        return _not_found(visit)
    return visit.page("message.html", line=line)


async def message_status(visit: Visit, match: re.Match[str]) -> WebReply:
    """The status badge alone, for htmx to poll until the status is final."""
    line = await _one(visit, match)
    if line is None:
        return _not_found(visit)
    return html(render("_status.html", line=line))


async def _one(visit: Visit, match: re.Match[str]) -> MessageLine | None:
    assert visit.account is not None
    found = await visit.gateway.search(
        visit.account, MessageFilter(message_id=int(match.group(1))), 1
    )
    return found[0] if found else None


def _not_found(visit: Visit) -> WebReply:
    return visit.page("error.html", 404, message="No such message.")
