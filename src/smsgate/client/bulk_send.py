"""Sending many rows with the async client: batches of 100, several in flight, paced to the
account's request rate (the client itself backs off on 429), every row ending accepted or rejected.

Knows nothing about files or terminals: rows in, a `BulkOutcome` and progress callbacks out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

from .async_client import AsyncClient
from .csv_rows import Rejected, Row
from .errors import AuthenticationError, SmsGateError, ValidationError
from .models import SendResult
from .protocol import MAX_ITEMS


class Pacer:
    """Spaces request starts at most `rate` per second across all workers (0: no limit)."""

    def __init__(
        self,
        rate: float,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._sleep = sleep
        self._clock = clock
        self._next = 0.0

    async def wait(self) -> None:
        if not self._interval:
            return
        now = self._clock()
        start = max(self._next, now)
        self._next = start + self._interval
        if start > now:
            await self._sleep(start - now)


@dataclass(slots=True)
class BulkOutcome:
    accepted: dict[str, Row] = field(default_factory=dict)  # message id → its row
    rejected: list[Rejected] = field(default_factory=list)
    fatal: SmsGateError | None = None  # an error that stopped the run (bad token, bad sender)


def is_fatal(error: SmsGateError) -> bool:
    """Errors every further batch would repeat: stop instead of failing row by row."""
    if isinstance(error, AuthenticationError):
        return True
    return isinstance(error, ValidationError) and "src_addr" in error.fields


def batches(rows: Sequence[Row], size: int = MAX_ITEMS) -> Iterator[Sequence[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def send_rows(
    client: AsyncClient,
    rows: Sequence[Row],
    sender: str,
    *,
    one_text: bool,
    concurrency: int = 4,
    pacer: Pacer | None = None,
    lifetime: float | None = None,
    on_batch: Callable[[int], object] = lambda count: None,
) -> BulkOutcome:
    """Send `rows` and account for every one of them. With `one_text` all rows share a text and
    go by `/sms/send`; otherwise each row's own text goes by `/v2/sms/send`."""
    outcome = BulkOutcome()
    pending = batches(rows)
    pacer = pacer or Pacer(0)

    async def send_one(batch: Sequence[Row]) -> SendResult:
        if one_text:
            phones = [row.phone for row in batch]
            return await client.send(phones, batch[0].message, sender, lifetime=lifetime)
        pairs = [(row.phone, row.message) for row in batch]
        return await client.send_personal(pairs, sender, lifetime=lifetime)

    async def worker() -> None:
        # One shared iterator: asyncio runs one worker at a time, so no batch is taken twice.
        for batch in pending:
            if outcome.fatal is not None:
                _reject_all(outcome, batch, f"not sent: {outcome.fatal.message}")
                on_batch(len(batch))
                continue
            await pacer.wait()
            try:
                result = await send_one(batch)
            except SmsGateError as error:
                if is_fatal(error) and outcome.fatal is None:
                    outcome.fatal = error
                _reject_all(outcome, batch, error.message)
            else:
                _account(outcome, batch, result)
            on_batch(len(batch))

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return outcome


def _reject_all(outcome: BulkOutcome, batch: Sequence[Row], reason: str) -> None:
    outcome.rejected.extend(Rejected(row, reason) for row in batch)


def _account(outcome: BulkOutcome, batch: Sequence[Row], result: SendResult) -> None:
    """Rows whose phone (as given) is in `rejected` are rejected; the others were accepted, and
    take the accepted ids in order."""
    ids = iter(result.accepted)
    for row in batch:
        reason = result.rejected.get(row.phone)
        if reason is not None:
            outcome.rejected.append(Rejected(row, reason))
            continue
        message_id = next(ids, None)
        if message_id is None:
            # The server accepted fewer recipients than it did not reject: say so, don't guess.
            outcome.rejected.append(Rejected(row, "no id returned for this recipient"))
        else:
            outcome.accepted[message_id] = row
