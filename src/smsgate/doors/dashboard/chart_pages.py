"""The account's charts: messages sent and, of them, delivered and failed per minute (the last
hour), hour (48 hours) or day (30 days); the last 30 days by status and by destination
country; the balance over its last ledger lines.

The page is a frame whose panels htmx fetches once it is shown; a panel carries its chart's
numbers as JSON in a data attribute (no inline script: the Content-Security-Policy forbids it)
and as a table, and static/charts.js draws them with chart.js.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from smsgate.domain.money import format_money
from smsgate.doors.web import WebReply
from smsgate.gateway.views import TrafficRow
from smsgate.ttl_cache import TtlCache

from .pages import html, query
from .render import render

if TYPE_CHECKING:
    from .app import Visit

Page = Callable[["Visit", re.Match[str]], Awaitable[WebReply]]
# span -> (buckets, seconds per bucket, title)
SPANS = {
    "minute": (60, 60, "the last hour, per minute"),
    "hour": (48, 3_600, "the last 48 hours, per hour"),
    "day": (30, 86_400, "the last 30 days, per day"),
}
USAGE_DAYS = 30
# A status drawn in the colour its badge has everywhere else (dashboard.css).
_STATUS_COLOURS = {
    "DELIVRD": "--ok",
    "ENROUTE": "--wait",
    "UNDELIV": "--bad",
    "REJECTD": "--bad",
    "EXPIRED": "--grey",
}
BALANCE_LINES = 200
MONTH_TTL = 60.0  # seconds a month's breakdown, or the per-hour or per-day traffic, is reused
_MONTH: TtlCache[tuple[int, str], dict[str, Any]] = TtlCache(MONTH_TTL, time.monotonic, 10_000)


def routes() -> list[tuple[str, frozenset[str], Page]]:
    get = frozenset({"GET"})
    return [
        (r"/charts", get, charts_page),
        (r"/charts/(traffic|statuses|countries|balance)", get, chart_panel),
    ]


def buckets(rows: list[TrafficRow], first: float, count: int, step: int) -> list[TrafficRow]:
    """Every bucket from `first`, the store's rows where it had some, zeros elsewhere."""
    found = {int(r.start): r for r in rows}
    starts = [int(first) + i * step for i in range(count)]
    return [found.get(s, TrafficRow(float(s), 0, 0, 0)) for s in starts]


def _label(at: float, step: int) -> str:
    fmt = "%Y-%m-%d" if step >= 86_400 else "%H:%M" if step < 3_600 else "%m-%d %H:00"
    return time.strftime(fmt, time.gmtime(at))


async def charts_page(visit: Visit, match: re.Match[str]) -> WebReply:
    """The frame: each panel is fetched on its own once the page is shown (htmx), so the page
    answers at once however long a month of messages takes to count."""
    return visit.page("charts.html", span=_span(visit), spans=SPANS)


async def chart_panel(visit: Visit, match: re.Match[str]) -> WebReply:
    assert visit.account is not None
    name = match.group(1)
    if name == "traffic":
        context = await _traffic(visit, _span(visit))
    elif name == "balance":
        context = await _balance(visit)
    else:
        # A month of an account's messages is counted at most once a minute per process: a
        # busy account has millions, and the figures are per day anyway.
        key = (visit.account.id, name)
        context = await _MONTH.get(key, lambda: _breakdown(visit, name))
    return html(render("_chart_panel.html", panel=name, **context))


def _span(visit: Visit) -> str:
    span = query(visit.request).get("span", "hour")
    return span if span in SPANS else "hour"


async def _traffic(visit: Visit, span: str) -> dict[str, Any]:
    assert visit.account is not None
    count, step, title = SPANS[span]
    if span != "minute":  # 48 hours or 30 days of a busy account: up to millions of rows
        key = (visit.account.id, f"traffic-{span}")
        return await _MONTH.get(key, lambda: _traffic_of(visit, count, step, title))
    return await _traffic_of(visit, count, step, title)


async def _traffic_of(visit: Visit, count: int, step: int, title: str) -> dict[str, Any]:
    assert visit.account is not None
    first = (time.time() // step - (count - 1)) * step
    found = await visit.gateway.traffic(visit.account, first, first + count * step, step)
    rows = buckets(found, first, count, step)
    spec = {
        "type": "bar",
        "labels": [_label(r.start, step) for r in rows],
        "series": [
            {"label": "sent", "data": [r.sent for r in rows]},
            {"label": "delivered", "data": [r.delivered for r in rows]},
            {"label": "failed", "data": [r.failed for r in rows]},
        ],
    }
    return {"spec": spec, "title": f"Sent, delivered and failed: {title} (UTC)", "rows": rows}


async def _breakdown(visit: Visit, name: str) -> dict[str, Any]:
    assert visit.account is not None
    today = datetime.now(UTC).date()
    since = today - timedelta(days=USAGE_DAYS - 1)
    group: Literal["status", "country"] = "status" if name == "statuses" else "country"
    usage = await visit.gateway.usage(visit.account, since, today, group)
    spec: dict[str, Any] = {
        "type": "doughnut" if group == "status" else "bar",
        "labels": [r.key for r in usage.rows],
        "series": [{"label": "messages", "data": [r.messages for r in usage.rows]}],
    }
    if group == "status":
        spec["colours"] = [_STATUS_COLOURS.get(r.key, "--grey") for r in usage.rows]
    title = f"By {'status' if group == 'status' else 'destination country'}, last {USAGE_DAYS} days"
    return {"spec": spec, "title": title, "usage": usage}


async def _balance(visit: Visit) -> dict[str, Any]:
    assert visit.account is not None
    ledger = await visit.gateway.ledger(visit.account, None, BALANCE_LINES)
    lines = list(reversed(ledger.lines))
    spec = {
        "type": "line",
        "labels": [time.strftime("%m-%d %H:%M", time.gmtime(line.entry.at)) for line in lines],
        "series": [
            {
                "label": f"balance ({ledger.currency})",
                "data": [float(format_money(line.balance_after)) for line in lines],
            }
        ],
    }
    return {"spec": spec, "title": f"Balance over the last {len(lines)} ledger lines"}
