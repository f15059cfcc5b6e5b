"""What an account may see and change about itself in the dashboard: a new API token (shown
once, stored as its hash), its webhook endpoints and the deliveries that failed (webhooks and
per-message callbacks) with every attempt, sent again on request, and its opt-outs.

A service over the store's roles for the dashboard (the admin CLI has its own commands); the
caller passes the session's account, and everything read or redelivered here is checked to be
that account's: a delivery of another account is answered like an unknown one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from smsgate.gateway.accounts import AccountCache
from smsgate.gateway.credentials import hash_token, new_token
from smsgate.store.records import (
    CALLBACKS,
    WEBHOOKS,
    AccountRecord,
    DeadLetter,
    Delivery,
    OutboxAttempt,
    Suppression,
    WebhookEndpoint,
)
from smsgate.store.roles import AccountAdmin, DeadLetters, Outbox, Suppressions, WebhookEndpoints

DELIVERY_KINDS = (WEBHOOKS, CALLBACKS)
MAX_FAILED = 200  # failed deliveries one page lists (the newest this many)


class SelfServiceStore(AccountAdmin, WebhookEndpoints, DeadLetters, Outbox, Suppressions, Protocol):
    """The roles an account's own pages read and change."""


class SelfService:
    def __init__(
        self,
        store: SelfServiceStore,
        accounts: AccountCache,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._clock = clock

    async def rotate_token(self, account: AccountRecord) -> str:
        """A fresh API token for the account; the old one stops working (on other nodes
        within their account cache's lifetime). The plain token exists only in the answer."""
        token = new_token()
        await self._store.set_token_hash(account.id, hash_token(token))
        self._accounts.forget()
        return token

    async def webhook_endpoints(self, account: AccountRecord) -> list[WebhookEndpoint]:
        return await self._store.webhook_endpoints(account.id)

    async def failed_deliveries(self, account: AccountRecord, kind: str) -> list[DeadLetter]:
        """The account's deliveries of `kind` (webhooks or callbacks) given up, newest first."""
        letters = await self._store.dead_letters(_known(kind), account.id, 100_000)
        return sorted(letters, key=lambda d: d.dead_at, reverse=True)[:MAX_FAILED]

    async def failed_delivery(
        self, account: AccountRecord, kind: str, item_id: int
    ) -> tuple[DeadLetter, list[OutboxAttempt]] | None:
        """One failed delivery of the account with every attempt, oldest first; None when it
        is not a failed delivery of this account."""
        letter = await self._own_letter(account, kind, item_id)
        if letter is None:
            return None
        return letter, await self._store.outbox_attempts(item_id)

    async def redeliver(self, account: AccountRecord, kind: str, item_id: int) -> bool:
        """Send a failed delivery of the account again (a copy, from a fresh 24 h of retries);
        False when it is not one (any more)."""
        if await self._own_letter(account, kind, item_id) is None:
            return False
        return bool(await self._store.redeliver(kind, [item_id], self._clock()))

    async def callbacks(
        self, account: AccountRecord, message_id: int
    ) -> list[tuple[Delivery, list[OutboxAttempt]]]:
        """A message's callbacks (its dlr_url or callback_url) with every attempt of each."""
        return [
            (delivery, await self._store.outbox_attempts(delivery.item_id))
            for delivery in await self._store.callback_deliveries(account.id, message_id)
        ]

    async def opt_outs(self, account: AccountRecord) -> list[Suppression]:
        """The numbers the account cannot send to: recipients' STOPs and the operator's."""
        return await self._store.suppressions(account.id)

    async def _own_letter(
        self, account: AccountRecord, kind: str, item_id: int
    ) -> DeadLetter | None:
        letters = await self._store.dead_letters(_known(kind), account.id, 100_000)
        return next((d for d in letters if d.item_id == item_id), None)


def _known(kind: str) -> str:
    if kind not in DELIVERY_KINDS:
        raise ValueError(f"not a delivery kind: {kind!r}")
    return kind
