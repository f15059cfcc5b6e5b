"""Receipts take their parts' queued answers into their own write."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence

import pytest

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


class _Troubled(_Store):
    """Refuses the next `fail` writes the way a full or locked SQLite file does (or with
    `error`), then writes as the in-memory store."""

    def __init__(self, fail: int, error: Exception | None = None) -> None:
        super().__init__()
        self.fail = fail
        self.error = error or sqlite3.OperationalError("database or disk is full")
        self.refused = 0

    def _refuse(self) -> None:
        if self.fail > 0:
            self.fail -= 1
            self.refused += 1
            raise self.error

    async def submitted(self, done: Sequence[SubmitDone]) -> None:
        self._refuse()
        await super().submitted(done)

    async def apply_receipts(
        self, receipts: Sequence[OperatorReceipt], answers: Sequence[SubmitDone] = ()
    ) -> None:
        self._refuse()
        await super().apply_receipts(receipts, answers)


def _told(results: OperatorResults) -> list[list[str]]:
    told: list[list[str]] = []
    results.recorded = lambda done: told.append([d.operator_id for d in done])
    return told


async def test_answers_the_store_refuses_for_a_while_are_written_once_it_answers() -> None:
    store = _Troubled(fail=2)
    results = OperatorResults(store, answer_delay=0)
    told = _told(results)
    results.submitted.post(_done("A"))
    results.submitted.post(_done("B"))
    await asyncio.wait_for(results.drain(), 10)
    assert store.refused == 2
    assert store.writes == [("submitted", [], ["A", "B"])]  # the one write that went through
    assert told == [["A", "B"]]  # the window slots freed once, after it


async def test_answers_are_given_up_after_the_retry_time_and_a_bug_is_not_retried() -> None:
    # Still refused when the retry time is up: the slots are freed and the claim will lapse.
    store = _Troubled(fail=1_000)
    results = OperatorResults(store, answer_delay=0, retry_for=1.0)
    told = _told(results)
    results.submitted.post(_done("A"))
    await asyncio.wait_for(results.drain(), 10)
    assert 2 <= store.refused < 10 and store.writes == []
    assert told == [["A"]]
    # An error that is not the store in trouble is not tried again.
    store = _Troubled(fail=1_000, error=ValueError("a bug"))
    results = OperatorResults(store, answer_delay=0)
    told = _told(results)
    results.submitted.post(_done("A"))
    await asyncio.wait_for(results.drain(), 10)
    assert store.refused == 1 and told == [["A"]]


async def test_a_refused_receipt_gives_the_answer_it_took_back_to_the_answers_batch() -> None:
    store = _Troubled(fail=1)
    results = OperatorResults(store, answer_delay=60.0)
    told = _told(results)
    results.submitted.post(_done("B"))
    receipt = results.receipts.add(_receipt("B"))
    with pytest.raises(sqlite3.OperationalError):
        await asyncio.wait_for(receipt, 2)  # the operator is answered with an error
    assert told == []  # B's slot is not freed: its answer is not written
    await asyncio.wait_for(results.drain(), 2)
    assert store.writes == [("submitted", [], ["B"])]
    assert told == [["B"]]
