"""Usage reports: an account's messages in a period of UTC days, counted with their parts and
their cost net of refunds, by day, by status or by destination country.

Reads only. The store groups countries by the numbers' first three digits (a calling code is
at most three, domain/countries.py), and the groups that share a country are added up here.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from smsgate.domain.countries import country_of
from smsgate.gateway.errors import InvalidRequest
from smsgate.immutable import record
from smsgate.store import roles
from smsgate.store.records import AccountRecord, UsageRow

Grouping = Literal["day", "status", "country"]
MAX_DAYS = 366


@record
class Usage:
    first: date
    last: date  # inclusive
    group: Grouping
    rows: tuple[UsageRow, ...]  # by key
    total: UsageRow  # key "total"
    currency: str


class UsageReports:
    def __init__(self, store: roles.Ledger) -> None:
        self._store = store

    async def usage(
        self, account: AccountRecord, first: date, last: date, group: Grouping
    ) -> Usage:
        """From the start of `first` to the end of `last` (UTC days); at most MAX_DAYS."""
        if first > last:
            raise InvalidRequest("from", "`from` must not be after `to`")
        if (last - first).days + 1 > MAX_DAYS:
            raise InvalidRequest("to", f"a period is at most {MAX_DAYS} days")
        since = _midnight(first)
        until = _midnight(last + timedelta(days=1))
        if group == "country":
            by_prefix = await self._store.usage(account.id, since, until, "prefix")
            rows = _by_country(by_prefix)
        else:
            rows = await self._store.usage(account.id, since, until, group)
        total = UsageRow(
            "total",
            sum(r.messages for r in rows),
            sum(r.parts for r in rows),
            sum(r.cost for r in rows),
        )
        return Usage(first, last, group, tuple(rows), total, account.currency)


def _midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _by_country(rows: list[UsageRow]) -> list[UsageRow]:
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        counts = found[country_of(r.key)]
        counts[0] += r.messages
        counts[1] += r.parts
        counts[2] += r.cost
    return [UsageRow(k, *v) for k, v in sorted(found.items())]
