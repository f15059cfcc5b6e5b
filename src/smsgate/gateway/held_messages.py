"""Long messages that arrive part by part (SMPP UDH or SAR): each part is answered as soon as
the store holds it; the message is sent through submit() once its last part is in.

Why not hold the answers until the message is whole: a customer with a window of one (many
clients send one submit_sm and wait for its response) never sends part 2 before part 1 is
answered, so such a message could never complete. Answering first moves the refusals that
only a whole message can get (money, duplicates) to receipts: the message is stored REJECTD
under the parts' ids and each part that asked for a receipt gets one. A message whose parts
stop coming is given up the same way after `timeout`.

Which node finishes a message does not matter: the part that completes it claims it in the
store, and a sweep on any node takes over claims that lapsed (its node died) and gives up
incomplete messages, so every answered part ends in a message or a REJECTD receipt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from smsgate.domain.segments import decode_payload
from smsgate.gateway.errors import (
    AllDuplicates,
    InvalidRequest,
    RateLimited,
    Rejection,
    SenderNotAllowed,
)
from smsgate.gateway.send_request import SendItem, SendRequest
from smsgate.gateway.submit import Submitter, rate_limit_of
from smsgate.store.records import AccountRecord, HeldPart, RefusedMessage
from smsgate.store.roles import AccountReads, HeldParts

log = logging.getLogger(__name__)

ASSEMBLY_TIMEOUT = 300.0  # seconds an incomplete message waits for its missing parts
CLAIM_FOR = 60.0  # seconds a node has to finish a message it claimed before a sweep may
# The part that completes a message is answered once the message was accepted (so its id
# answers a query at once, and a fast sender feels the store's pace) or after this long.
ANSWER_WAIT = 5.0

# The error a refusal is reported with: the door maps why (a Rejection, the exception submit
# raised, or None for "never completed") to its own code.
ErrorCode = Callable[[Rejection | Exception | None], int]


class HeldMessages:
    """Built by `Gateway.held_messages` for a door that takes long messages part by part."""

    def __init__(
        self,
        submitter: Submitter,
        parts: HeldParts,
        accounts: AccountReads,
        error_code: ErrorCode,
        *,
        refused: Callable[[int], None] = lambda account_id: None,
        timeout: float = ASSEMBLY_TIMEOUT,
        claim_for: float = CLAIM_FOR,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._submitter = submitter
        self._parts = parts
        self._accounts = accounts
        self._error_code = error_code
        self._refused = refused  # an account has new receipts to pump
        self.timeout = timeout
        self._claim_for = claim_for
        self._clock = clock
        self._finishing: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def hold(
        self,
        account: AccountRecord,
        *,
        source: str,
        destination: str,
        ref: int,
        total: int,
        seq: int,
        data_coding: int,
        payload: bytes,
        wants_receipt: bool,
        lifetime: float | None,
    ) -> int:
        """Store one part; the id to answer it with. Raises what the store raises (then
        nothing was kept), and RateLimited for a part over the account's rate limit (not
        kept either). The caller has checked the part with `Gateway.check`. The part
        that completes its message returns once the message was sent on (or refused), or
        after ANSWER_WAIT."""
        now = self._clock()
        part = HeldPart(
            self._submitter.new_id(),
            account.id,
            source,
            destination,
            ref,
            total,
            seq,
            data_coding,
            payload,
            wants_receipt,
            lifetime,
            now,
        )
        held = await self._parts.hold_part(part, now, self._claim_for, rate_limit_of(account))
        if held.retry_after is not None:
            raise RateLimited(held.retry_after)
        if held.complete:
            task = self._spawn(self._finish(account, held.complete))
            await asyncio.wait([task], timeout=ANSWER_WAIT)
        return held.id

    def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def close(self) -> None:
        """Stop sweeping; messages being finished finish (their claims would lapse anyway)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self._finishing:
            await asyncio.wait(list(self._finishing), timeout=10)

    async def sweep_once(self) -> None:
        now = self._clock()
        due = await self._parts.held_due(now, now - self.timeout, self._claim_for)
        for parts in due.complete:
            account = await self._accounts.account(parts[0].account_id)
            if account is not None:
                self._spawn(self._finish(account, parts))
        for parts in due.incomplete:
            await self._refuse(parts, self._error_code(None))

    async def _sweep(self) -> None:
        interval = max(0.05, min(5.0, self.timeout / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep_once()
            except Exception:
                log.exception("sweeping held long messages failed; trying again")

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)
        return task

    async def _finish(self, account: AccountRecord, parts: Sequence[HeldPart]) -> None:
        first = parts[0]
        # Octets are joined before decoding, so a UCS-2 character split across parts survives.
        text = decode_payload(first.data_coding, b"".join(p.payload for p in parts))
        request = SendRequest(
            sender=first.source,
            items=[SendItem(first.destination, text)],
            door="smpp",
            # The first part's validity_period stands for the message: it starts its life.
            lifetime_minutes=None if first.lifetime is None else first.lifetime / 60,
            pdu_count=len(parts),
            receipt_for=tuple(i for i, p in enumerate(parts) if p.wants_receipt),
            held_ids=tuple(p.id for p in parts),
        )
        why: Rejection | Exception
        try:
            outcome = await self._submitter.send(account, request)
        except (AllDuplicates, InvalidRequest, SenderNotAllowed, RateLimited) as exc:
            # The message's own fault (its parts took the rate-limit tokens; it takes none).
            why = exc
        except Exception:
            # The store failed: the claim lapses and a sweep tries again.
            log.exception("finishing a held long message failed")
            return
        else:
            if outcome.accepted:
                return
            why = outcome.rejected[0][1]
            if why is Rejection.ALREADY_FINISHED:
                return
        await self._refuse(parts, self._error_code(why), text)

    async def _refuse(self, parts: Sequence[HeldPart], error: int, text: str = "") -> None:
        first = parts[0]
        if not text:
            text = decode_payload(first.data_coding, b"".join(p.payload for p in parts))
        refused = RefusedMessage(tuple(parts), first.destination, text, error, self._clock())
        if await self._parts.refuse_held(refused):
            self._refused(first.account_id)
