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

from collections.abc import Callable, Sequence

from smsgate.batching import BatchQueue, whole_batch
from smsgate.store.records import OperatorReceipt, SubmitDone
from smsgate.store.roles import Receipts

# Told which accepted parts' results a store write took (or failed to take): a connector that
# holds a window slot until then frees it (Connector.settled).
Recorded = Callable[[Sequence[SubmitDone]], None]


def answer_delay(bound_resends: bool) -> float:
    """How long accepted parts' results gather before their write: not at all when a
    connector holds a window slot until that write (its throughput waits on it), else 20 ms,
    which saves writer turns at no cost (the slot was freed at the answer)."""
    return 0.0 if bound_resends else 0.02


def submitted_batch(
    store: Receipts,
    answer_delay: float = 0.02,
    recorded: Callable[[], Recorded | None] = lambda: None,
) -> BatchQueue[SubmitDone, None]:
    """The batch of accepted parts' results. The window slot is freed at the operator's
    answer, not at this commit (unless the connector bounds its resends), so a longer
    gathering time costs no throughput and saves writer turns. `recorded()` is asked after
    each write for whom to tell."""

    async def write(done: Sequence[SubmitDone]) -> None:
        try:
            await store.submitted(done)
        finally:
            tell = recorded()
            if tell is not None:
                tell(done)

    return BatchQueue(whole_batch(write), delay=answer_delay, name="submitted")


class OperatorResults:
    """`submitted` takes the dispatcher's results (posted: a lost one means the part's
    claim lapses and it is sent again); `receipts` the connectors' (added: each deliver_sm is
    acknowledged once its receipt is stored). `drain()` stores whatever is queued."""

    def __init__(self, store: Receipts, *, answer_delay: float = 0.02) -> None:
        self._store = store
        # Set by the node once the dispatcher exists: told of every accepted part's result
        # written (by either batch), so connectors bounding their resends free its slot.
        self.recorded: Recorded | None = None
        self.submitted = submitted_batch(store, answer_delay, lambda: self.recorded)
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
        finally:
            if answers and self.recorded is not None:
                self.recorded(answers)

    async def drain(self) -> None:
        await self.receipts.drain()
        await self.submitted.drain()
