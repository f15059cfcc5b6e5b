"""The customer's message log: the list with its filters, one message, and its live status.

Reads only through Gateway.search, which never returns another account's message: a message
id of another account is answered exactly like an unknown one (404).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from smsgate.domain.status import Status
from smsgate.doors.web import WebReply
from smsgate.gateway.timeline import timeline
from smsgate.gateway.views import (
    Delivery,
    MessageFilter,
    MessageLine,
    OutboxAttempt,
    PartView,
)
from smsgate.immutable import record

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
        (r"/messages/rows", get, message_rows),
        (r"/messages/(\d{1,19})", get, message_page),
        (r"/messages/(\d{1,19})/status", get, message_progress),
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
    return await _log(visit, "messages.html")


async def message_rows(visit: Visit, match: re.Match[str]) -> WebReply:
    """The log's rows alone, for htmx to fetch again while the log is live (_log.html)."""
    return await _log(visit, "_log.html")


async def _log(visit: Visit, template: str) -> WebReply:
    assert visit.account is not None
    given = query(visit.request)
    shown = {key: given.get(key, "") for key in FILTERS}
    context: dict[str, object] = {"statuses": list(Status), "doors": DOORS, "shown": shown}
    try:
        where = parse_filter(given)
    except BadFilter as exc:
        return visit.page(
            template, 400, lines=[], error=str(exc), older=None, paged=False, live=False,
            here="", **context,
        )  # fmt: skip
    if where.phone and visit.gateway.submitter.number(where.phone) == where.phone:
        # A whole number: that recipient's rows alone, by their index, not a prefix scan.
        where = dataclasses.replace(where, phone=None, number=where.phone)
    lines = await visit.gateway.search(visit.account, where, PAGE_SIZE + 1)
    kept = {key: value for key, value in shown.items() if value}
    older = None
    if len(lines) > PAGE_SIZE:
        lines = lines[:PAGE_SIZE]
        older = "?" + urlencode({**kept, "before": lines[-1].id})
    paged = where.before_id is not None
    if paged:
        kept["before"] = str(where.before_id)
    # Live while a row may still change, and on the first page, where new messages appear.
    live = not paged or any(line.status is Status.ENROUTE for line in lines)
    return visit.page(
        template,
        lines=lines,
        error=None,
        older=older,
        paged=paged,
        live=live,
        here="?" + urlencode(kept) if kept else "",
        **context,
    )


async def message_page(visit: Visit, match: re.Match[str]) -> WebReply:
    found = await _progress_of(visit, match)
    if found is None:
        return _not_found(visit)
    return visit.page("message.html", **found)


async def message_progress(visit: Visit, match: re.Match[str]) -> WebReply:
    """The status, timeline and parts alone, for htmx to poll until the status is final."""
    found = await _progress_of(visit, match)
    if found is None:
        return _not_found(visit)
    return html(render("_progress.html", **found))


async def _progress_of(visit: Visit, match: re.Match[str]) -> dict[str, object] | None:
    assert visit.account is not None
    line = await _one(visit, match)
    if line is None:
        return None
    parts = await visit.gateway.message_parts(visit.account, line.id)
    found = await visit.self_service.callbacks(visit.account, line.id)
    callbacks = [
        (described_callback(delivery, redelivered=_copied_later(delivery, found)), attempts)
        for delivery, attempts in found
    ]
    # Polled while the message or one of its callbacks is still on its way.
    live = line.status is Status.ENROUTE or any(c.state == "trying" for c, _ in callbacks)
    return {
        "line": line,
        "parts": parts,
        "timeline": moments(line, parts),
        "callbacks": callbacks,
        "live": live,
    }


async def _one(visit: Visit, match: re.Match[str]) -> MessageLine | None:
    assert visit.account is not None
    found = await visit.gateway.search(
        visit.account, MessageFilter(message_id=int(match.group(1))), 1
    )
    return found[0] if found else None


def _not_found(visit: Visit) -> WebReply:
    return visit.page("error.html", 404, message="No such message.")


@record
class Moment:
    """One step of a message's life as its page lists it."""

    at: float
    what: str
    detail: str


# A step's end as the page names it: the receipt's status word.
_ENDS = {
    "delivered": "DELIVRD",
    "undelivered": "UNDELIV",
    "expired": "EXPIRED",
    "rejected": "REJECTD",
}


def moments(line: MessageLine, parts: list[PartView]) -> list[Moment]:
    """The message's timeline (gateway/timeline.py: accepted, each part taken by the operator,
    each part's end) in the page's words: which door, which connector, which part."""
    by_seq = {part.seq: part for part in parts}
    shown = []
    for step in timeline(line, parts):
        if step.type == "accepted":
            shown.append(Moment(step.at, "accepted", f"by the {line.door} door"))
            continue
        part = by_seq.get(step.part) if step.part is not None else None
        label = f"part {part.seq}/{part.total}" if part and part.total > 1 else "the message"
        if step.type == "submitted":
            where = (part.connector if part else None) or "an operator"
            ref = f", operator id {step.operator_id}" if step.operator_id else ""
            shown.append(Moment(step.at, "submitted", f"{label} to {where}{ref}"))
        else:
            error = f", error {step.error}" if step.error else ""
            shown.append(Moment(step.at, _ENDS[step.type], f"{label}{error}"))
    return shown


@record
class CallbackShown:
    """One callback of a message as its page lists it."""

    item_id: int
    status: str
    url: str  # without its query: customers put their own tokens there
    state: str  # "delivered", "given up", "sent again" (redelivered) or "trying"
    created_at: float
    last_error: str | None


def _copied_later(delivery: Delivery, found: list[tuple[Delivery, list[OutboxAttempt]]]) -> bool:
    """A redelivery queues a copy with the same form; the dead letter it came from is settled."""
    return any(
        later.item_id > delivery.item_id
        and (later.payload, later.status) == (delivery.payload, delivery.status)
        for later, _ in found
    )


def described_callback(delivery: Delivery, *, redelivered: bool = False) -> CallbackShown:
    try:
        payload = json.loads(delivery.payload or "")
    except ValueError:
        payload = None
    url = str(payload.get("url", "")) if isinstance(payload, dict) else ""
    if delivery.dead_at is not None:
        state = "given up"
    elif redelivered:
        state = "sent again"
    elif delivery.delivered_at is not None:
        state = "delivered"
    else:
        state = "trying"
    return CallbackShown(
        delivery.item_id,
        delivery.status or "",
        url.split("?", 1)[0],
        state,
        delivery.created_at,
        delivery.last_error,
    )
