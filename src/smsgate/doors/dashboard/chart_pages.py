"""The account's charts: messages sent and, of them, delivered and failed per minute (the last
hour), hour (48 hours) or day (30 days); the last 30 days by status and by destination
country; the balance over its last ledger lines.

The page carries each chart's numbers as JSON in a data attribute (no inline script: the
Content-Security-Policy forbids it) and as a table; static/charts.js draws them with chart.js.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from smsgate.domain.money import format_money
from smsgate.doors.web import WebReply
from smsgate.gateway.views import TrafficRow

from .pages import query

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


def routes() -> list[tuple[str, frozenset[str], Page]]:
    return [(r"/charts", frozenset({"GET"}), charts_page)]


def buckets(rows: list[TrafficRow], first: float, count: int, step: int) -> list[TrafficRow]:
    """Every bucket from `first`, the store's rows where it had some, zeros elsewhere."""
    found = {int(r.start): r for r in rows}
    starts = [int(first) + i * step for i in range(count)]
    return [found.get(s, TrafficRow(float(s), 0, 0, 0)) for s in starts]


def _label(at: float, step: int) -> str:
    fmt = "%Y-%m-%d" if step >= 86_400 else "%H:%M" if step < 3_600 else "%m-%d %H:00"
    return time.strftime(fmt, time.gmtime(at))


async def charts_page(visit: Visit, match: re.Match[str]) -> WebReply:
    assert visit.account is not None
    span = query(visit.request).get("span", "hour")
    if span not in SPANS:
        span = "hour"
    count, step, title = SPANS[span]
    now = time.time()
    first = (now // step - (count - 1)) * step
    rows = buckets(
        await visit.gateway.traffic(visit.account, first, first + count * step, step),
        first,
        count,
        step,
    )
    today = datetime.now(UTC).date()
    since = today - timedelta(days=USAGE_DAYS - 1)
    by_status = await visit.gateway.usage(visit.account, since, today, "status")
    by_country = await visit.gateway.usage(visit.account, since, today, "country")
    ledger = await visit.gateway.ledger(visit.account, None, BALANCE_LINES)
    balance = list(reversed(ledger.lines))
    traffic = {
        "type": "bar",
        "labels": [_label(r.start, step) for r in rows],
        "series": [
            {"label": "sent", "data": [r.sent for r in rows]},
            {"label": "delivered", "data": [r.delivered for r in rows]},
            {"label": "failed", "data": [r.failed for r in rows]},
        ],
    }
    statuses = {
        "type": "doughnut",
        "labels": [r.key for r in by_status.rows],
        "series": [{"label": "messages", "data": [r.messages for r in by_status.rows]}],
        "colours": [_STATUS_COLOURS.get(r.key, "--grey") for r in by_status.rows],
    }
    countries = {
        "type": "bar",
        "labels": [r.key for r in by_country.rows],
        "series": [{"label": "messages", "data": [r.messages for r in by_country.rows]}],
    }
    money = {
        "type": "line",
        "labels": [time.strftime("%m-%d %H:%M", time.gmtime(line.entry.at)) for line in balance],
        "series": [
            {
                "label": f"balance ({ledger.currency})",
                "data": [float(format_money(line.balance_after)) for line in balance],
            }
        ],
    }
    return visit.page(
        "charts.html",
        span=span,
        spans=SPANS,
        title=title,
        rows=rows,
        traffic=traffic,
        statuses=statuses,
        countries=countries,
        money=money,
        by_status=by_status,
        by_country=by_country,
        usage_days=USAGE_DAYS,
        balance_lines=len(balance),
    )
