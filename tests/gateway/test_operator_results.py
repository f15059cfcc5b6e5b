"""Receipts take their parts' queued answers into their own write."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from smsgate.domain.status import PartState
from smsgate.gateway.operator_results import OperatorResults
from smsgate.store.memory import MemoryStore
from smsgate.store.records import OperatorReceipt, SubmitDone


class _Store(MemoryStore):
    """The in-memory store, keeping a log of the writes it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, list[str], list[str]]] = []

    async def submitted(self, done: Sequence[SubmitDone]) -> None:
        self.writes.append(("submitted", [], [d.operator_id for d in done]))
        await super().submitted(done)

    async def apply_receipts(
        self, receipts: Sequence[OperatorReceipt], answers: Sequence[SubmitDone] = ()
    ) -> None:
        self.writes.append(
            ("receipts", [r.operator_id for r in receipts], [d.operator_id for d in answers])
        )
        await super().apply_receipts(receipts, answers)


def _done(operator_id: str, connector: str = "op") -> SubmitDone:
    return SubmitDone(1, connector, operator_id, 0.0)


def _receipt(operator_id: str, connector: str = "op") -> OperatorReceipt:
    return OperatorReceipt(connector, operator_id, PartState.DELIVRD, 0, 0.0)


async def test_a_receipt_takes_its_queued_answer_and_others_wait_for_their_batch() -> None:
    store = _Store()
    # Answers wait far longer than the test runs: only a receipt or drain() takes them out.
    results = OperatorResults(store, answer_delay=60.0)
    for operator_id in ("A", "B", "C"):
        results.submitted.post(_done(operator_id))
    results.submitted.post(_done("B", connector="other"))  # same id, another operator
    await asyncio.wait_for(results.receipts.add(_receipt("B")), 2)
    await asyncio.wait_for(results.receipts.add(_receipt("Z")), 2)  # answer already gone
    await asyncio.wait_for(results.drain(), 2)
    assert store.writes == [
        ("receipts", ["B"], ["B"]),
        ("receipts", ["Z"], []),
        ("submitted", [], ["A", "C", "B"]),
    ]
