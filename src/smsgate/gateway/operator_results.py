"""The operators' answers on their way to the store: submit results (an operator id per part)
and receipts, each gathered into batches (smsgate.batching).

A fast operator reports delivery milliseconds after it accepted the part, while that part's
answer still waits in its batch (gathered for `answer_delay` because nothing waits on it).
Such a receipt takes its answer along: both go into the receipt batch's one transaction,
the answer first. Written apart, the receipt would find no part with its operator id, be
stored as unmatched and be matched again by the answer's later write: two more statements
and the part written twice. Against the simulator (bench/smpp_door.py) 62 % of receipts
come that early.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from smsgate.batching import BatchQueue, whole_batch
from smsgate.gateway.store_trouble import describe_error, is_store_trouble
from smsgate.log_limit import LimitedLog
from smsgate.store.records import OperatorReceipt, SubmitDone
from smsgate.store.roles import Receipts

log = logging.getLogger(__name__)
_limited_log = LimitedLog(log)

# How long a batch of accepted parts' results is retried while the store is in trouble
# (locked, full, restarting). Given up, the parts' claims lapse and they are sent again
# (DispatchPolicy.claim_ttl, 300 s by default): the operator gets them twice and the
# customer waits that long. Kept well under the claim, and short enough that a node stopping
# with its store gone is not held up for long.
RETRY_FOR = 30.0
_FIRST_PAUSE, _LONGEST_PAUSE = 0.2, 5.0

# Told which accepted parts' results a store write took (or failed to take): a connector that
# holds a window slot until then frees it (Connector.settled).
Recorded = Callable[[Sequence[SubmitDone]], None]


def answer_delay(bound_resends: bool) -> float:
    """How long accepted parts' results gather before their write: not at all when a
    connector holds a window slot until that write (its throughput waits on it), else 20 ms,
    which saves writer turns at no cost (the slot was freed at the answer)."""
    return 0.0 if bound_resends else 0.02


async def store_submitted(
    store: Receipts, done: Sequence[SubmitDone], retry_for: float = RETRY_FOR
) -> None:
    """`store.submitted(done)`, tried again with growing pauses for up to `retry_for` seconds
    while the store is in trouble: the operator took these parts, and a result not written
    means they go to it again."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + retry_for
    pause = _FIRST_PAUSE
    while True:
        try:
            await store.submitted(done)
            return
        except Exception as error:
            if not is_store_trouble(error) or loop.time() + pause > give_up:
                raise
            _limited_log.warning(
                "submitted",
                "storing %d parts' operator answers failed (%s); trying again",
                len(done),
                describe_error(error),
                extra={"event": "answers_write_failed", "parts": len(done)},
            )
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)


def submitted_batch(
    store: Receipts,
    answer_delay: float = 0.02,
    recorded: Callable[[], Recorded | None] = lambda: None,
    retry_for: float = RETRY_FOR,
) -> BatchQueue[SubmitDone, None]:
    """The batch of accepted parts' results. The window slot is freed at the operator's
    answer, not at this commit (unless the connector bounds its resends), so a longer
    gathering time costs no throughput and saves writer turns. `recorded()` is asked after
    each write for whom to tell."""

    async def write(done: Sequence[SubmitDone]) -> None:
        try:
            await store_submitted(store, done, retry_for)
        finally:
            tell = recorded()
            if tell is not None:
                tell(done)

    return BatchQueue(whole_batch(write), delay=answer_delay, name="submitted")


class OperatorResults:
    """`submitted` takes the dispatcher's results (posted: a lost one means the part's
    claim lapses and it is sent again); `receipts` the connectors' (added: each deliver_sm is
    acknowledged once its receipt is stored). `drain()` stores whatever is queued."""

    def __init__(
        self, store: Receipts, *, answer_delay: float = 0.02, retry_for: float = RETRY_FOR
    ) -> None:
        self._store = store
        # Set by the node once the dispatcher exists: told of every accepted part's result
        # written (by either batch), so connectors bounding their resends free its slot.
        self.recorded: Recorded | None = None
        self.submitted = submitted_batch(store, answer_delay, lambda: self.recorded, retry_for)
        # No gathering delay: the operator's deliver_sm window (64 on the simulator) waits for
        # each batch's commit, so receipts/s is that window over the round trip.
        self.receipts: BatchQueue[OperatorReceipt, None] = BatchQueue(
            whole_batch(self._store_receipts), delay=0, name="receipts"
        )

    async def _store_receipts(self, receipts: Sequence[OperatorReceipt]) -> None:
        wanted = {(r.connector, r.operator_id) for r in receipts}
        answers = self.submitted.withdraw(lambda d: (d.connector, d.operator_id) in wanted)
        try:
            await self._store.apply_receipts(receipts, answers)
        except Exception as error:
            if answers and is_store_trouble(error):
                # The receipts are refused (the operator sends them again); the answers they
                # took along go back to their own batch, which keeps trying.
                for done in answers:
                    self.submitted.post(done)
                answers = []
            raise
        finally:
            if answers and self.recorded is not None:
                self.recorded(answers)

    async def drain(self) -> None:
        await self.receipts.drain()
        await self.submitted.drain()
