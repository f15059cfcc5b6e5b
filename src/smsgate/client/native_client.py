"""`NativeClient`: the blocking face of smsgate's own API (/api/v1/). Each method builds a
`native_calls` call and lets the shared session run it, retries and all.

Must not build requests, read answers or decide retries itself: `AsyncNativeClient` does the
same through the same calls, and the two must not drift apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from types import TracebackType

import httpx

from . import native_calls as calls
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
from .native_calls import Seconds, To
from .native_models import Message, MessagePage, MessageSummary, Quote, Sent
from .retry import RetryPolicy
from .session import SyncSession
from .webhook_models import FailedDelivery, Webhook


class NativeClient:
    """A client of smsgate's native API, with typed answers and typed errors.

    >>> with NativeClient("http://127.0.0.1:8080", token) as api:
    ...     sent = api.send(["380501234567"], "Hello", "Shop", send_at=tomorrow)
    ...     api.cancel(sent.ids[0])
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self._session = SyncSession(
            base_url,
            token,
            timeout=timeout,
            policy=RetryPolicy(retries=retries, backoff=backoff),
            transport=transport,
            sleep=sleep,
        )

    def send(
        self,
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
    ) -> Sent:
        """Send `text` to phones, or to `Recipient`s with texts and references of their own.
        Every request carries an Idempotency-Key (a fresh one unless you give yours), so a
        retry after a lost answer returns the first answer instead of sending again.
        `callback_url` gets each message's status pushed (`callback_method` POST or GET,
        `callback_events` "final" or "all")."""
        call = calls.send_call(
            to,
            text,
            sender,
            send_at=send_at,
            valid_for=valid_for,
            callback_url=callback_url,
            callback_method=callback_method,
            callback_events=callback_events,
            idempotency_key=idempotency_key,
        )
        return self._session.run(call)

    def quote(
        self, to: To, text: str | None, sender: str, *, valid_for: Seconds | None = None
    ) -> Quote:
        """What the same send would cost, and whether the balance covers it; sends nothing."""
        return self._session.run(calls.quote_call(to, text, sender, valid_for=valid_for))

    def message(self, message_id: str | int) -> Message:
        return self._session.run(calls.message_call(message_id))

    def cancel(self, message_id: str | int) -> Message:
        """Cancel a message none of whose parts is with the operator yet (the money comes
        back); `ConflictError` when it is too late."""
        return self._session.run(calls.cancel_call(message_id))

    def search(
        self,
        *,
        phone: str | None = None,
        status: str | None = None,
        sender: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int | None = None,
    ) -> Iterator[MessageSummary]:
        """Every matching message, newest first, following the cursors page by page."""
        query = calls.search_query(
            phone=phone, status=status, sender=sender, since=since, until=until, limit=page_size
        )
        return self._session.pages(calls.search_paging(query))

    def search_page(
        self,
        *,
        phone: str | None = None,
        status: str | None = None,
        sender: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> MessagePage:
        """One page of a search; pass its `next_cursor` as `cursor` for the next."""
        query = calls.search_query(
            phone=phone, status=status, sender=sender, since=since, until=until, limit=limit
        )
        return self._session.run(calls.search_call(query, cursor))

    def balance(self) -> AccountBalance:
        return self._session.run(calls.balance_call())

    def senders(self) -> list[str]:
        return self._session.run(calls.senders_call())

    def ledger(self, *, page_size: int | None = None) -> Iterator[LedgerEntry]:
        """Every top-up, charge and refund, newest first, following the cursors."""
        return self._session.pages(calls.ledger_paging(page_size))

    def ledger_page(self, *, cursor: str | None = None, limit: int | None = None) -> LedgerPage:
        return self._session.run(calls.ledger_call(cursor, limit))

    def usage(self, start: date, end: date, group: str = "day") -> Usage:
        """Messages, parts and money from `start` to `end`, by day, status or country."""
        return self._session.run(calls.usage_call(start, end, group))

    def events(self, *, after: int = 0, page_size: int | None = None) -> Iterator[Event]:
        """The account's events after seq `after`, oldest first, until caught up."""
        return self._session.pages(calls.events_paging(after, page_size))

    def events_page(self, *, after: int = 0, limit: int | None = None) -> EventPage:
        return self._session.run(calls.events_call(after, limit))

    def inbound(self, *, after: int = 0, page_size: int | None = None) -> Iterator[InboundMessage]:
        """The SMS sent to the account with ids above `after`, oldest first, until caught up."""
        return self._session.pages(calls.inbound_paging(after, page_size))

    def inbound_page(self, *, after: int = 0, limit: int | None = None) -> InboundPage:
        return self._session.run(calls.inbound_call(after, limit))

    def webhooks(self) -> list[Webhook]:
        """The account's webhook endpoints with their health."""
        return self._session.run(calls.webhooks_call())

    def add_webhook(
        self, url: str, *, events: list[str] | None = None, secret: str | None = None
    ) -> Webhook:
        """A new endpoint for these event types (default message.status); the answer's
        `secret` signs its deliveries and is shown this once."""
        return self._session.run(calls.add_webhook_call(url, events, secret))

    def webhook(self, endpoint_id: str | int) -> Webhook:
        return self._session.run(calls.webhook_call(endpoint_id))

    def remove_webhook(self, endpoint_id: str | int) -> None:
        """Its pending deliveries become failed ones."""
        self._session.run(calls.remove_webhook_call(endpoint_id))

    def rotate_webhook_secret(self, endpoint_id: str | int) -> Webhook:
        """A new secret (in the answer, once); the old one signs too until the rotation ends."""
        return self._session.run(calls.webhook_call(endpoint_id, "rotate-secret"))

    def finish_webhook_rotation(self, endpoint_id: str | int) -> Webhook:
        return self._session.run(calls.webhook_call(endpoint_id, "finish-rotation"))

    def enable_webhook(self, endpoint_id: str | int) -> Webhook:
        """Enable an endpoint disabled after failing, forgetting its failures."""
        return self._session.run(calls.webhook_call(endpoint_id, "enable"))

    def failed_deliveries(self, *, limit: int | None = None) -> list[FailedDelivery]:
        """Deliveries given up after their retries, oldest first."""
        return self._session.run(calls.failed_deliveries_call(limit))

    def redeliver(self, ids: Iterable[str | int] | None = None) -> list[str]:
        """Send failed deliveries again (all of them unless `ids`); the ids queued again."""
        return self._session.run(calls.redeliver_call(ids))

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> NativeClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
