"""The native API's JSON bodies read into the typed values of `native_models` and
`account_models`; a body that breaks the shape is an `UnexpectedResponseError`, never a
KeyError or a half-built value.

Reads only: requests are built in `native_calls.py`, errors in `native_answer.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from .account_models import (
    AccountBalance,
    Event,
    EventPage,
    InboundMessage,
    InboundPage,
    LedgerEntry,
    LedgerPage,
    Usage,
    UsageRow,
)
from .errors import UnexpectedResponseError
from .models import Status
from .native_models import (
    Message,
    MessagePage,
    MessageSummary,
    Part,
    Quote,
    QuoteLine,
    Rejection,
    Sent,
    SentMessage,
    TimelineStep,
)
from .webhook_models import FailedDelivery, Webhook

Json = dict[str, Any]
T = TypeVar("T")


def parse_sent(body: Json) -> Sent:
    return Sent(
        messages=_list(body, "messages", _sent_message),
        rejected=parse_rejections(body.get("rejected")),
        send_at=_time_or_none(body, "send_at"),
        total_price=_money(body, "total_price"),
        currency=_text(body, "currency"),
        balance=_money(body, "balance"),
    )


def _sent_message(item: Json) -> SentMessage:
    return SentMessage(
        id=_text(item, "id"),
        to=_text(item, "to"),
        number=_text(item, "number"),
        client_ref=_text_or_none(item, "client_ref"),
        status=_status(item, "status"),
        encoding=_text(item, "encoding"),
        parts=_int(item, "parts"),
        characters=_int(item, "characters"),
        price=_money(item, "price"),
    )


def parse_rejections(value: object) -> list[Rejection]:
    if value is None:
        return []
    return _list({"rejected": value}, "rejected", _rejection)


def _rejection(item: Json) -> Rejection:
    return Rejection(
        to=_text(item, "to"),
        client_ref=_text_or_none(item, "client_ref"),
        reason=_text(item, "reason"),
        code=_text(item, "code"),
    )


def parse_quote(body: Json) -> Quote:
    return Quote(
        recipients=_list(body, "recipients", _quote_line),
        rejected=parse_rejections(body.get("rejected")),
        total_price=_money(body, "total_price"),
        currency=_text(body, "currency"),
        balance=_money(body, "balance"),
        covered=_bool(body, "covered"),
    )


def _quote_line(item: Json) -> QuoteLine:
    return QuoteLine(
        to=_text(item, "to"),
        number=_text(item, "number"),
        client_ref=_text_or_none(item, "client_ref"),
        encoding=_text(item, "encoding"),
        parts=_int(item, "parts"),
        characters=_int(item, "characters"),
        ucs2_characters=tuple(str(c) for c in _field(item, "ucs2_characters", list)),
        price_per_part=_money(item, "price_per_part"),
        price=_money(item, "price"),
    )


def parse_message(body: Json) -> Message:
    return Message(
        id=_text(body, "id"),
        to=_text(body, "to"),
        sender=_text(body, "sender"),
        status=_status(body, "status"),
        created_at=_time(body, "created_at"),
        done_at=_time_or_none(body, "done_at"),
        error=_int(body, "error"),
        price=_money(body, "price"),
        currency=_text(body, "currency"),
        parts=_list(body, "parts", _part),
        client_ref=_text_or_none(body, "client_ref"),
        events=tuple(_list(body, "events", _step)) if "events" in body else (),
    )


def _step(item: Json) -> TimelineStep:
    part, error = item.get("part"), item.get("error")
    return TimelineStep(
        at=_time(item, "at"),
        type=_text(item, "type"),
        part=None if part is None else _int(item, "part"),
        operator_id=_text_or_none(item, "operator_id"),
        error=None if error is None else _int(item, "error"),
    )


def _part(item: Json) -> Part:
    return Part(
        seq=_int(item, "seq"),
        status=_status(item, "status"),
        state=_text(item, "state"),
        operator_id=_text_or_none(item, "operator_id"),
        price=_money(item, "price"),
        submitted_at=_time_or_none(item, "submitted_at"),
        done_at=_time_or_none(item, "done_at"),
        error=_int(item, "error"),
    )


def parse_message_page(body: Json) -> MessagePage:
    return MessagePage(
        messages=_list(body, "messages", _summary),
        next_cursor=_text_or_none(body, "next_cursor"),
    )


def _summary(item: Json) -> MessageSummary:
    return MessageSummary(
        id=_text(item, "id"),
        to=_text(item, "to"),
        sender=_text(item, "sender"),
        status=_status(item, "status"),
        created_at=_time(item, "created_at"),
        done_at=_time_or_none(item, "done_at"),
        error=_int(item, "error"),
        client_ref=_text_or_none(item, "client_ref"),
    )


def parse_balance(body: Json) -> AccountBalance:
    return AccountBalance(
        balance=_money(body, "balance"),
        reserved=_money(body, "reserved"),
        charged=_money(body, "charged"),
        currency=_text(body, "currency"),
    )


def parse_senders(body: Json) -> list[str]:
    return [str(name) for name in _field(body, "senders", list)]


def parse_ledger_page(body: Json) -> LedgerPage:
    return LedgerPage(
        entries=_list(body, "entries", _ledger_entry),
        next_cursor=_text_or_none(body, "next_cursor"),
        currency=_text_or_none(body, "currency") or "",
    )


def _ledger_entry(item: Json) -> LedgerEntry:
    return LedgerEntry(
        kind=_text(item, "type"),
        amount=_money(item, "amount"),
        at=_time(item, "at"),
        message_id=_text_or_none(item, "message_id"),
        balance_after=None if item.get("balance_after") is None else _money(item, "balance_after"),
    )


def parse_usage(body: Json) -> Usage:
    total = _field(body, "total", dict)
    return Usage(
        start=_date(body, "from"),
        end=_date(body, "to"),
        group=_text(body, "group"),
        rows=_list(body, "rows", _usage_row),
        total=_usage_row({"key": "total", **total}),
        currency=_text_or_none(body, "currency") or "",
    )


def _usage_row(item: Json) -> UsageRow:
    return UsageRow(
        key=_text(item, "key"),
        messages=_int(item, "messages"),
        parts=_int(item, "parts"),
        cost=_money(item, "cost"),
    )


def parse_event_page(body: Json) -> EventPage:
    return EventPage(events=_list(body, "events", _event), next_after=_int(body, "next_after"))


def _event(item: Json) -> Event:
    data = item.get("data")
    if data is not None and not isinstance(data, dict):
        raise _bad("data", data)
    return Event(
        seq=_int(item, "seq"),
        type=_text(item, "type"),
        at=_time(item, "at"),
        message_id=_text_or_none(item, "message_id"),
        part_id=_text_or_none(item, "part_id"),
        data=data,
    )


def parse_inbound_page(body: Json) -> InboundPage:
    return InboundPage(messages=_list(body, "data", _inbound), next_after=_int(body, "next_after"))


def _inbound(item: Json) -> InboundMessage:
    return InboundMessage(
        id=_int(item, "id"),
        sender=_text(item, "from"),
        to=_text(item, "to"),
        text=_text(item, "text"),
        keyword=_text_or_none(item, "keyword"),
        parts=_int(item, "parts"),
        total=_int(item, "total"),
        complete=_bool(item, "complete"),
        received_at=_time(item, "received_at"),
    )


def parse_webhook(body: Json) -> Webhook:
    return Webhook(
        id=_text(body, "id"),
        url=_text(body, "url"),
        events=tuple(str(e) for e in _field(body, "events", list)),
        enabled=_bool(body, "enabled"),
        rotating=_bool(body, "rotating"),
        created_at=_time(body, "created_at"),
        failing_since=_time_or_none(body, "failing_since"),
        disabled_at=_time_or_none(body, "disabled_at"),
        disabled_reason=_text_or_none(body, "disabled_reason"),
        secret=_text_or_none(body, "secret"),
    )


def parse_webhooks(body: Json) -> list[Webhook]:
    return _list(body, "webhooks", parse_webhook)


def parse_failed_deliveries(body: Json) -> list[FailedDelivery]:
    return _list(body, "deliveries", _failed_delivery)


def _failed_delivery(item: Json) -> FailedDelivery:
    return FailedDelivery(
        id=_text(item, "id"),
        endpoint_id=_text_or_none(item, "endpoint_id"),
        webhook_id=_text_or_none(item, "webhook_id"),
        type=_text_or_none(item, "type"),
        created_at=_time(item, "created_at"),
        dead_at=_time(item, "dead_at"),
        attempts=_int(item, "attempts"),
        last_error=_text_or_none(item, "last_error"),
    )


def parse_redelivered(body: Json) -> list[str]:
    return [str(i) for i in _field(body, "redelivered", list)]


# -- fields ----------------------------------------------------------------------------------


def _bad(name: str, value: object) -> UnexpectedResponseError:
    return UnexpectedResponseError(f"unexpected {name} in the answer: {value!r}"[:300], 200)


def _field(body: Json, name: str, kind: type[T]) -> T:
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        raise _bad(name, value)
    return value


def _list(body: Json, name: str, item: Callable[[Json], T]) -> list[T]:
    values = _field(body, name, list)
    if not all(isinstance(v, dict) for v in values):
        raise _bad(name, values)
    return [item(v) for v in values]


def _text(body: Json, name: str) -> str:
    value = body.get(name)
    # Ids may come as JSON numbers (the events' and inbound's) or strings (the messages').
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _bad(name, value)
    return str(value)


def _text_or_none(body: Json, name: str) -> str | None:
    return None if body.get(name) is None else _text(body, name)


def _int(body: Json, name: str) -> int:
    return _field(body, name, int)


def _bool(body: Json, name: str) -> bool:
    return _field(body, name, bool)


def _money(body: Json, name: str) -> Decimal:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _bad(name, value)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise _bad(name, value) from None
    if not amount.is_finite():
        raise _bad(name, value)
    return amount


def _status(body: Json, name: str) -> Status:
    try:
        return Status(_text(body, name).upper())
    except ValueError:
        raise _bad(name, body.get(name)) from None


def _time(body: Json, name: str) -> datetime:
    value = body.get(name)
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)  # the events' and inbound's epochs
        if isinstance(value, str):
            when = datetime.fromisoformat(value)
            return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise _bad(name, value)


def _time_or_none(body: Json, name: str) -> datetime | None:
    return None if body.get(name) is None else _time(body, name)


def _date(body: Json, name: str) -> date:
    value = body.get(name)
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _bad(name, value) from None
