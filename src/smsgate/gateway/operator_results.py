"""The operators' answers on their way to the store: submit results (an operator id per part)
and receipts, each gathered into batches (smsgate.batching).

A fast operator reports delivery milliseconds after it accepted the part, while that part's
answer still waits in its batch (gathered for `answer_delay` because nothing waits on it).
Such a receipt takes its answer along: both go into the receipt batch's one transaction,
the answer first. Written apart, the receipt would find no part with its operator id, be
stored as unmatched and be matched again by the answer's later write: two more statements
and the part written twice. Against the simulator that was 62 % of receipts
(bench/smpp_door.py; bench/RESULTS.md, "Session 6").
"""

from __future__ import annotations

from collections.abc import Sequence

from smsgate.batching import BatchQueue, whole_batch
from smsgate.store.records import OperatorReceipt, SubmitDone
from smsgate.store.roles import Receipts


def submitted_batch(store: Receipts, answer_delay: float = 0.02) -> BatchQueue[SubmitDone, None]:
    """The batch of accepted parts' results. The window slot is freed at the operator's
    answer, not at this commit, so a longer gathering time costs no throughput and saves
    writer turns."""
    return BatchQueue(whole_batch(store.submitted), delay=answer_delay, name="submitted")


class OperatorResults:
    """`submitted` takes the dispatcher's results (posted: a lost one means the part's
    claim lapses and it is sent again); `receipts` the connectors' (added: each deliver_sm is
    acknowledged once its receipt is stored). `drain()` stores whatever is queued."""

    def __init__(self, store: Receipts, *, answer_delay: float = 0.02) -> None:
        self._store = store
        self.submitted = submitted_batch(store, answer_delay)
        # No gathering delay: the operator's deliver_sm window (64 on the simulator) waits for
        # each batch's commit, so receipts/s is that window over the round trip.
        self.receipts: BatchQueue[OperatorReceipt, None] = BatchQueue(
            whole_batch(self._store_receipts), delay=0, name="receipts"
        )

    async def _store_receipts(self, receipts: Sequence[OperatorReceipt]) -> None:
        wanted = {(r.connector, r.operator_id) for r in receipts}
        answers = self.submitted.withdraw(lambda d: (d.connector, d.operator_id) in wanted)
        await self._store.apply_receipts(receipts, answers)

    async def drain(self) -> None:
        await self.receipts.drain()
        await self.submitted.drain()
