"""The native API (/api/v1/) without I/O: each SDK method as a `Call` (its requests, how to read
and merge the answers), and listings as `Paging` (the call for the page after a page).

Sends carry an Idempotency-Key made here, once per request, so every retry repeats it and the
server answers a retry with the first answer. Must not send, sleep or retry (`exchange.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import TypeVar

from .account_models import (
    AccountBalance,
    Event,
    EventPage,
    InboundMessage,
    InboundPage,
    LedgerEntry,
    LedgerPage,
    Usage,
)
from .native_answer import Json, read_answer
from .native_models import Message, MessagePage, MessageSummary, Quote, Recipient, Sent
from .native_parse import (
    parse_balance,
    parse_event_page,
    parse_failed_deliveries,
    parse_inbound_page,
    parse_ledger_page,
    parse_message,
    parse_message_page,
    parse_quote,
    parse_redelivered,
    parse_senders,
    parse_sent,
    parse_usage,
    parse_webhook,
    parse_webhooks,
)
from .protocol import ApiRequest, Call, Paging, PhoneLike, chunks, new_key
from .webhook_models import FailedDelivery, Webhook

API = "/api/v1"

P = TypeVar("P")
T = TypeVar("T")

To = PhoneLike | Recipient | Iterable[PhoneLike | Recipient]
Seconds = int | float | timedelta


def _one(request: ApiRequest, parse: Callable[[Json], T]) -> Call[T, T]:
    return Call([request], parse, _only, read_answer)


def _only(parts: list[T]) -> T:
    return parts[0]


# -- messages --------------------------------------------------------------------------------


def recipients_of(to: To) -> list[Recipient]:
    """A phone, a Recipient, or many of either, as Recipients."""
    if isinstance(to, str | int | Recipient):
        to = [to]
    return [r if isinstance(r, Recipient) else Recipient(str(r)) for r in to]


def send_body(
    recipients: list[Recipient],
    text: str | None,
    sender: str,
    *,
    send_at: datetime | None = None,
    valid_for: Seconds | None = None,
    callback_url: str | None = None,
    callback_method: str | None = None,
    callback_events: str | None = None,
) -> dict[str, object]:
    """The JSON of POST /api/v1/messages and /quote: `to` when every recipient is a bare phone
    with the common text, else `recipients` with their own texts and references."""
    body: dict[str, object] = {"sender": sender}
    if text is not None:
        body["text"] = text
    if all(r.text is None and r.client_ref is None for r in recipients):
        body["to"] = [r.to for r in recipients]
    else:
        body["recipients"] = [_recipient(r) for r in recipients]
    if send_at is not None:
        body["send_at"] = send_at.isoformat()
    if valid_for is not None:
        seconds = valid_for.total_seconds() if isinstance(valid_for, timedelta) else valid_for
        body["valid_for"] = round(seconds)
    # Members left out unless given: the server's defaults (POST; the final status only).
    for name, value in (
        ("callback_url", callback_url),
        ("callback_method", callback_method),
        ("callback_events", callback_events),
    ):
        if value is not None:
            body[name] = value
    return body


def _recipient(recipient: Recipient) -> dict[str, str]:
    item = {"to": recipient.to}
    if recipient.text is not None:
        item["text"] = recipient.text
    if recipient.client_ref is not None:
        item["client_ref"] = recipient.client_ref
    return item


def send_call(
    to: To,
    text: str | None,
    sender: str,
    *,
    send_at: datetime | None = None,
    valid_for: Seconds | None = None,
    callback_url: str | None = None,
    callback_method: str | None = None,
    callback_events: str | None = None,
    idempotency_key: str | None = None,
) -> Call[Sent, Sent]:
    """Over 100 recipients are sent 100 a request, each with its own key; a key you give is
    used for the first and, suffixed `:2`, `:3`…, for the next, so your own retry of the whole
    call (after a restart, say) repeats every one of them."""
    requests = []
    for n, part in enumerate(chunks(recipients_of(to)), 1):
        body = send_body(
            list(part),
            text,
            sender,
            send_at=send_at,
            valid_for=valid_for,
            callback_url=callback_url,
            callback_method=callback_method,
            callback_events=callback_events,
        )
        if idempotency_key is None:
            key = new_key()
        else:
            key = idempotency_key if n == 1 else f"{idempotency_key}:{n}"
        requests.append(ApiRequest(f"{API}/messages", body, key))
    return Call(requests, parse_sent, Sent.merged, read_answer)


def quote_call(
    to: To, text: str | None, sender: str, *, valid_for: Seconds | None = None
) -> Call[Quote, Quote]:
    body = send_body(recipients_of(to), text, sender, valid_for=valid_for)
    return _one(ApiRequest(f"{API}/quote", body), parse_quote)


def message_call(message_id: str | int) -> Call[Message, Message]:
    return _one(ApiRequest(f"{API}/messages/{message_id}", method="GET"), parse_message)


def cancel_call(message_id: str | int) -> Call[Message, Message]:
    return _one(ApiRequest(f"{API}/messages/{message_id}", method="DELETE"), parse_message)


def search_query(
    *,
    phone: str | None = None,
    status: str | None = None,
    sender: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> dict[str, str]:
    given = {
        "phone": phone,
        "status": None if status is None else str(status).upper(),
        "sender": sender,
        "since": None if since is None else since.isoformat(),
        "until": None if until is None else until.isoformat(),
        "limit": None if limit is None else str(limit),
    }
    return {name: value for name, value in given.items() if value is not None}


def search_call(
    query: Mapping[str, str], cursor: str | None = None
) -> Call[MessagePage, MessagePage]:
    query = {**query, "cursor": cursor} if cursor is not None else dict(query)
    return _one(ApiRequest(f"{API}/messages", method="GET", query=query), parse_message_page)


def search_paging(query: Mapping[str, str]) -> Paging[MessagePage, MessageSummary]:
    def after(page: MessagePage) -> Call[MessagePage, MessagePage] | None:
        return None if page.next_cursor is None else search_call(query, page.next_cursor)

    return Paging(search_call(query), lambda page: list(page.messages), after)


# -- account ---------------------------------------------------------------------------------


def balance_call() -> Call[AccountBalance, AccountBalance]:
    return _one(ApiRequest(f"{API}/balance", method="GET"), parse_balance)


def senders_call() -> Call[list[str], list[str]]:
    return _one(ApiRequest(f"{API}/senders", method="GET"), parse_senders)


def ledger_call(
    cursor: str | None = None, limit: int | None = None
) -> Call[LedgerPage, LedgerPage]:
    query = {"cursor": cursor, "limit": None if limit is None else str(limit)}
    request = ApiRequest(
        f"{API}/ledger", method="GET", query={k: v for k, v in query.items() if v is not None}
    )
    return _one(request, parse_ledger_page)


def ledger_paging(limit: int | None = None) -> Paging[LedgerPage, LedgerEntry]:
    def after(page: LedgerPage) -> Call[LedgerPage, LedgerPage] | None:
        return None if page.next_cursor is None else ledger_call(page.next_cursor, limit)

    return Paging(ledger_call(None, limit), lambda page: list(page.entries), after)


def usage_call(start: date, end: date, group: str = "day") -> Call[Usage, Usage]:
    query = {"from": start.isoformat(), "to": end.isoformat(), "group": group}
    return _one(ApiRequest(f"{API}/usage", method="GET", query=query), parse_usage)


def events_call(after: int = 0, limit: int | None = None) -> Call[EventPage, EventPage]:
    query = {"after": str(after)} | ({} if limit is None else {"limit": str(limit)})
    return _one(ApiRequest(f"{API}/events", method="GET", query=query), parse_event_page)


def events_paging(after: int = 0, limit: int | None = None) -> Paging[EventPage, Event]:
    """Every event after `after`, until a page comes back empty: the log caught up."""

    def follow(page: EventPage) -> Call[EventPage, EventPage] | None:
        return events_call(page.next_after, limit) if page.events else None

    return Paging(events_call(after, limit), lambda page: list(page.events), follow)


def inbound_call(after: int = 0, limit: int | None = None) -> Call[InboundPage, InboundPage]:
    query = {"after": str(after)} | ({} if limit is None else {"limit": str(limit)})
    return _one(ApiRequest(f"{API}/inbound", method="GET", query=query), parse_inbound_page)


def inbound_paging(after: int = 0, limit: int | None = None) -> Paging[InboundPage, InboundMessage]:
    """Every inbound SMS after id `after`, until a page comes back empty."""

    def follow(page: InboundPage) -> Call[InboundPage, InboundPage] | None:
        return inbound_call(page.next_after, limit) if page.messages else None

    return Paging(inbound_call(after, limit), lambda page: list(page.messages), follow)


# -- webhook endpoints -----------------------------------------------------------------------


def webhooks_call() -> Call[list[Webhook], list[Webhook]]:
    return _one(ApiRequest(f"{API}/webhooks", method="GET"), parse_webhooks)


def add_webhook_call(
    url: str, events: list[str] | None = None, secret: str | None = None
) -> Call[Webhook, Webhook]:
    body: dict[str, object] = {"url": url}
    if events is not None:
        body["events"] = list(events)
    if secret is not None:
        body["secret"] = secret
    return _one(ApiRequest(f"{API}/webhooks", body), parse_webhook)


def webhook_call(endpoint_id: str | int, action: str = "") -> Call[Webhook, Webhook]:
    """GET the endpoint, or POST one of its actions (rotate-secret, finish-rotation, enable)."""
    if not action:
        return _one(ApiRequest(f"{API}/webhooks/{endpoint_id}", method="GET"), parse_webhook)
    return _one(ApiRequest(f"{API}/webhooks/{endpoint_id}/{action}"), parse_webhook)


def remove_webhook_call(endpoint_id: str | int) -> Call[None, None]:
    request = ApiRequest(f"{API}/webhooks/{endpoint_id}", method="DELETE")
    return _one(request, lambda _empty: None)


def failed_deliveries_call(
    limit: int | None = None,
) -> Call[list[FailedDelivery], list[FailedDelivery]]:
    query = {} if limit is None else {"limit": str(limit)}
    request = ApiRequest(f"{API}/webhooks/failed", method="GET", query=query)
    return _one(request, parse_failed_deliveries)


def redeliver_call(ids: Iterable[str | int] | None = None) -> Call[list[str], list[str]]:
    body: dict[str, object] = {} if ids is None else {"ids": [str(i) for i in ids]}
    return _one(ApiRequest(f"{API}/webhooks/failed/redeliver", body), parse_redelivered)
