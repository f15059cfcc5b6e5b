"""A bulk send from a CSV file: the browser reads the file and posts its rows in batches
(static/bulk.js), each batch one send through Gateway.send like every door's, and shows the
progress as the answers come back. One batch is at most MAX_ITEMS rows and one form's size, so
a file of any length never becomes one huge request, and a refused batch says why.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import orjson

from smsgate.doors.web import WebReply
from smsgate.gateway.errors import AllDuplicates, InvalidRequest, RateLimited, Rejection
from smsgate.gateway.send_request import MAX_ITEMS, SendItem, SendRequest

from .pages import SECURITY_HEADERS

if TYPE_CHECKING:
    from .app import Visit

DOOR = "web"
Page = Callable[["Visit", re.Match[str]], Awaitable[WebReply]]


def routes() -> list[tuple[str, frozenset[str], Page]]:
    return [(r"/send/bulk", frozenset({"POST"}), bulk_batch)]


def _json(body: object, status: int = 200) -> WebReply:
    return WebReply(orjson.dumps(body), status, "application/json", dict(SECURITY_HEADERS))


def parse_rows(text: str, default_text: str) -> list[SendItem] | str:
    """The batch's rows ([[phone, text], ...] as JSON; an empty text takes the form's), or why
    they cannot be read."""
    try:
        rows = orjson.loads(text)
    except orjson.JSONDecodeError:
        return "the rows are not JSON"
    if not isinstance(rows, list) or not rows:
        return "no rows"
    if len(rows) > MAX_ITEMS:
        return f"at most {MAX_ITEMS} rows a batch"
    items = []
    for row in rows:
        if not (isinstance(row, list) and 1 <= len(row) <= 2):
            return "each row is [phone] or [phone, text]"
        if not all(isinstance(cell, str) for cell in row):
            return "each cell is text"
        phone, text = row[0].strip(), (row[1] if len(row) == 2 else "")
        items.append(SendItem(phone, text or default_text))
    return items


async def bulk_batch(visit: Visit, match: re.Match[str]) -> WebReply:
    assert visit.account is not None
    items = parse_rows(visit.form.get("rows", ""), visit.form.get("text", ""))
    if isinstance(items, str):
        return _json({"error": items}, 400)
    request = SendRequest(sender=visit.form.get("sender", ""), items=items, door=DOOR)
    try:
        outcome = await visit.gateway.send(visit.account, request)
    except InvalidRequest as exc:
        return _json({"error": f"{exc.field}: {exc.reason}"}, 400)
    except RateLimited as exc:
        return _json({"retry_after": exc.retry_after}, 429)
    except AllDuplicates:
        refused = [[item.phone, str(Rejection.DUPLICATE)] for item in items]
        return _json({"accepted": 0, "rejected": refused})
    return _json(
        {
            "accepted": len(outcome.accepted),
            "rejected": [[phone, str(why)] for phone, why in outcome.rejected],
        }
    )
