"""The account's inbound SMS (oldest first from a cursor, a page at a time, as the inbound
API replays them) and its opt-outs: the numbers it may not send to."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from smsgate.doors.web import WebReply

from .pages import query

if TYPE_CHECKING:
    from .app import Visit

Page = Callable[["Visit", re.Match[str]], Awaitable[WebReply]]
PAGE_SIZE = 50
OPT_OUTS_SHOWN = 500  # a list longer than this is counted, not printed


def routes() -> list[tuple[str, frozenset[str], Page]]:
    return [(r"/inbound", frozenset({"GET"}), inbound_page)]


async def inbound_page(visit: Visit, match: re.Match[str]) -> WebReply:
    assert visit.account is not None
    given = query(visit.request).get("after", "")
    after = int(given) if given.isdigit() and len(given) <= 19 else 0
    found = await visit.gateway.inbound(visit.account, after, PAGE_SIZE + 1)
    newer = found[PAGE_SIZE - 1].id if len(found) > PAGE_SIZE else None
    opt_outs = await visit.self_service.opt_outs(visit.account)
    return visit.page(
        "inbound.html",
        messages=found[:PAGE_SIZE],
        newer=newer,
        paged=after > 0,
        opt_outs=opt_outs[:OPT_OUTS_SHOWN],
        opt_outs_total=len(opt_outs),
    )
