"""GET /api/v1/ledger and GET /api/v1/usage: an account's money line by line, and what its
messages cost over a period, grouped.

Translation only: query parameters to the gateway's calls, its pages and reports to JSON. The
ledger's cursor is opaque to clients (they never build one): where the page ended in each of
the ledger's sources, and the balance after the next line.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response

from smsgate.domain.money import format_money
from smsgate.gateway.facade import Gateway
from smsgate.gateway.ledger import MAX_LEDGER_PAGE, LedgerCursor, LedgerPage
from smsgate.gateway.usage import MAX_DAYS
from smsgate.gateway.views import LedgerPosition

from .auth import Caller
from .models import LedgerLineOut, LedgerPageOut, UsageCounts, UsageOut, UsageRowOut
from .problems import ProblemError, described

router = APIRouter(tags=["money"])


@router.get(
    "/ledger",
    response_model=LedgerPageOut,
    summary="Every top-up, charge and refund of the account, newest first, a page at a time",
    description="The balance is always the sum of the ledger. Each line carries the balance "
    "right after it.",
    responses=described(401, 422, 429),
)
async def ledger(
    account: Caller,
    request: Request,
    response: Response,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of a page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LEDGER_PAGE)] = 50,
) -> Response:
    gateway: Gateway = request.app.state.gateway
    page = await gateway.ledger(account, None if cursor is None else _read_cursor(cursor), limit)
    answer = LedgerPageOut(
        entries=[
            LedgerLineOut(
                type=line.entry.kind.value,
                amount=format_money(line.entry.amount),
                at=datetime.fromtimestamp(line.entry.at, UTC),
                message_id=None if line.entry.message_id is None else str(line.entry.message_id),
                balance_after=format_money(line.balance_after),
            )
            for line in page.lines
        ],
        currency=page.currency,
        next_cursor=_cursor_of(page),
    )
    body = orjson.dumps(answer.model_dump(mode="json"))
    return Response(body, 200, dict(response.headers), "application/json")


def _cursor_of(page: LedgerPage) -> str | None:
    following = page.next
    if following is None:
        return None
    p = following.position
    fields = (
        "" if p.entry_at is None else repr(p.entry_at),
        "" if p.entry_id is None else str(p.entry_id),
        "" if p.charge_before is None else str(p.charge_before),
        str(following.balance),
    )
    raw = ("l" + ":".join(fields)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(cursor: str) -> LedgerCursor:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("l"):
            raise ValueError(raw)
        entry_at, entry_id, charge_before, balance = raw[1:].split(":")
        at = None if entry_at == "" else float(entry_at)
        if at is not None and not (0 <= at < 1e12):
            raise ValueError(raw)
        position = LedgerPosition(
            at,
            None if entry_id == "" else _int(entry_id),
            None if charge_before == "" else _int(charge_before),
        )
        return LedgerCursor(position, _int(balance, signed=True))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ProblemError(
            422, "invalid-field", "Invalid field", "Not a cursor this API gave.", field="cursor"
        ) from None


def _int(text: str, *, signed: bool = False) -> int:
    digits = text[1:] if signed and text.startswith("-") else text
    if not digits.isdigit() or len(digits) > 19:
        raise ValueError(text)
    value = int(text)
    if not -(2**63) < value < 2**63:
        raise ValueError(text)
    return value


@router.get(
    "/usage",
    response_model=UsageOut,
    summary="Messages, parts and money over a period of days, by day, status or country",
    responses=described(401, 422, 429),
)
async def usage(
    account: Caller,
    request: Request,
    response: Response,
    from_: Annotated[
        str, Query(alias="from", description="The first UTC day, YYYY-MM-DD.", max_length=10)
    ],
    to: Annotated[
        str, Query(description="The last UTC day (included), YYYY-MM-DD.", max_length=10)
    ],
    group: Annotated[Literal["day", "status", "country"], Query()] = "day",
) -> Response:
    gateway: Gateway = request.app.state.gateway
    first, last = _day(from_, "from"), _day(to, "to")
    if first > last:
        raise ProblemError(
            422, "invalid-field", "Invalid field", "`from` is after `to`.", field="from"
        )
    if (last - first).days + 1 > MAX_DAYS:
        raise ProblemError(
            422,
            "invalid-field",
            "Invalid field",
            f"A period is at most {MAX_DAYS} days.",
            field="to",
        )
    report = await gateway.usage(account, first, last, group)
    answer = UsageOut.model_validate(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "group": group,
            "rows": [
                UsageRowOut(
                    key=r.key, messages=r.messages, parts=r.parts, cost=format_money(r.cost)
                )
                for r in report.rows
            ],
            "total": UsageCounts(
                messages=report.total.messages,
                parts=report.total.parts,
                cost=format_money(report.total.cost),
            ),
            "currency": report.currency,
        }
    )
    body = orjson.dumps(answer.model_dump(mode="json", by_alias=True))
    return Response(body, 200, dict(response.headers), "application/json")


def _day(text: str, field: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ProblemError(
            422, "invalid-field", "Invalid field", "A day is YYYY-MM-DD.", field=field
        ) from None
