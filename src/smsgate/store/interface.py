"""The one interface the services use to reach storage, whatever the engine underneath.

Every decision that must hold across nodes (money, duplicates, rate limits, claims, leases) is
made inside these calls, in the database, never in a caller's memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from smsgate.domain.status import Status
from smsgate.store.records import (
    AcceptRequest,
    AcceptResult,
    AccountRecord,
    AccountSummary,
    Balance,
    ClaimedPart,
    Credentials,
    HeldDue,
    HeldPart,
    HoldResult,
    MessageView,
    OperatorReceipt,
    OutboxItem,
    RateLimit,
    RefusedMessage,
    SubmitDone,
    SubmitFailed,
    Tariff,
)


class StoreError(Exception):
    """A store call that cannot be carried out (unknown account, duplicate login, ...)."""


class Store(Protocol):
    # -- lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect and apply migrations."""

    async def close(self) -> None: ...

    # -- accounts and admin ------------------------------------------------------------------
    async def create_account(
        self, login: str, *, currency: str = "UAH", rate_limit: float = 9.0, max_binds: int = 4
    ) -> AccountRecord: ...
    async def account(self, account_id: int) -> AccountRecord | None: ...
    async def credentials(self, login: str) -> Credentials | None: ...
    async def account_by_token_hash(self, token_hash: str) -> AccountRecord | None: ...
    async def set_token_hash(self, account_id: int, token_hash: str) -> None: ...
    async def set_password_hash(self, account_id: int, password_hash: str) -> None: ...
    async def set_smpp_password_hash(self, account_id: int, password_hash: str) -> None: ...
    async def set_active(self, account_id: int, active: bool) -> None: ...
    async def set_rate_limit(self, account_id: int, rate_limit: float) -> None: ...
    async def list_accounts(self) -> list[AccountSummary]: ...
    async def top_up(self, account_id: int, amount: int) -> Balance: ...
    async def balance(self, account_id: int) -> Balance: ...
    async def add_originator(self, account_id: int, name: str) -> None: ...
    async def remove_originator(self, account_id: int, name: str) -> bool: ...
    async def originators(self, account_id: int) -> list[str]: ...
    async def set_tariff(self, tariff: Tariff) -> None: ...
    async def remove_tariff(self, account_id: int | None, prefix: str) -> bool: ...
    async def tariffs(self, account_id: int) -> list[Tariff]:
        """The account's own tariffs and the default plan's."""

    # -- the hot path ------------------------------------------------------------------------
    async def accept(self, request: AcceptRequest) -> AcceptResult:
        """Rate-limit, deduplicate, reserve money and persist, in one transaction; concurrent
        calls are group-committed. When this returns, every ACCEPTED message is durable."""

    async def accept_many(
        self, requests: Sequence[AcceptRequest]
    ) -> list[AcceptResult | BaseException]:
        """`accept` for each request, queued together: one result per request, in order, an
        exception in the slot of a request that failed (the others are not affected)."""

    async def statuses(self, account_id: int, ids: Sequence[int]) -> dict[int, Status]:
        """Statuses of the given ids (message ids or their aliases) that belong to the
        account; ids of other accounts and unknown ids are simply absent."""

    async def message(self, account_id: int, message_id: int) -> MessageView | None: ...

    async def cancel(self, account_id: int, message_id: int, at: float) -> bool:
        """Cancel a message none of whose parts has left yet; refund it. False otherwise."""

    # -- dispatcher --------------------------------------------------------------------------
    async def claim_parts(
        self, node_id: int, now: float, limit: int, claim_ttl: float
    ) -> list[ClaimedPart]:
        """Atomically move up to `limit` due QUEUED parts to SENDING for this node."""

    async def submitted(self, done: Sequence[SubmitDone]) -> None:
        """Parts the operator accepted: record operator ids, charge the reserved money, and
        apply any receipt that arrived before this was stored."""

    async def requeue(self, part_ids: Sequence[int], not_before: float) -> None:
        """Temporary failure: back to QUEUED, due again at `not_before`."""

    async def failed(self, failures: Sequence[SubmitFailed]) -> None:
        """Permanent failure before the operator took the part: final state, refund."""

    async def expire(self, now: float) -> int:
        """End QUEUED parts past their message's lifetime as EXPIRED, refunded."""

    async def release_claims(self, now: float, node_id: int | None = None) -> int:
        """SENDING parts whose claim lapsed (or all of node_id's) go back to QUEUED."""

    # -- receipts and outbox -----------------------------------------------------------------
    async def apply_receipts(
        self, receipts: Sequence[OperatorReceipt], answers: Sequence[SubmitDone] = ()
    ) -> None:
        """Move parts forward by operator receipts (monotonic); keep unmatched ones until
        their part's submit is recorded. `answers` are recorded first in the same
        transaction, as by submitted(): a receipt that comes while its part's answer is
        still on its way to the store is applied with it, not kept as unmatched."""

    async def outbox_pending(self, account_id: int, limit: int) -> list[OutboxItem]:
        """Undelivered customer receipts of an account, oldest first."""

    async def outbox_done(self, item_ids: Sequence[int]) -> None: ...

    async def outbox_accounts(self) -> list[int]:
        """Accounts that have undelivered customer receipts."""

    # -- long SMPP messages sent part by part --------------------------------------------------
    async def hold_part(
        self, part: HeldPart, now: float, claim_for: float, rate_limit: RateLimit | None = None
    ) -> HoldResult:
        """Keep one part of a long message until the others arrive (held_parts.py)."""

    async def held_due(self, now: float, incomplete_before: float, claim_for: float) -> HeldDue:
        """Claim held messages a sweep must finish: complete ones whose claim lapsed and
        incomplete ones older than `incomplete_before`."""

    async def refuse_held(self, refused: RefusedMessage) -> bool:
        """Store a held message as REJECTD with its receipts; False if already finished."""

    # -- many nodes --------------------------------------------------------------------------
    async def take_lease(self, key: str, holder: str, now: float, ttl: float) -> bool:
        """Take or renew a named lease; False while another holder's lease is live."""

    async def release_lease(self, key: str, holder: str) -> None: ...

    async def live_leases(self, now: float) -> dict[str, tuple[str, float]]:
        """Every lease still live at `now`: key -> (holder, expires_at)."""

    async def queue_depth(self) -> int: ...
