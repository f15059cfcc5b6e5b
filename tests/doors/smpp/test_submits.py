"""The SMPP door's queue of one loop turn's submits: one gateway call per account and turn,
each submit answered in order with what the gateway said about it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from smsgate.doors.smpp.submits import SubmitQueue
from smsgate.gateway.errors import RateLimited
from smsgate.gateway.send_request import SendItem, SendOutcome, SendRequest
from smsgate.store.records import AccountRecord

ALICE = AccountRecord(1, "alice", "UAH", 0.0, 4, True)
BOB = AccountRecord(2, "bob", "UAH", 0.0, 4, True)


class _Gateway:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[int, list[str]]] = []
        self.fail = fail

    async def send_many(
        self, account: AccountRecord, requests: Sequence[SendRequest]
    ) -> list[SendOutcome | Exception]:
        self.calls.append((account.id, [r.items[0].text for r in requests]))
        await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError("store down")
        answers: list[SendOutcome | Exception] = []
        for n, r in enumerate(requests):
            if r.items[0].text == "slow down":
                answers.append(RateLimited(1.0))
            else:
                answers.append(SendOutcome(accepted=[(100 * account.id + n, r.items[0].phone)]))
        return answers


def _sms(text: str) -> SendRequest:
    return SendRequest(sender="Shop", items=[SendItem("380501234567", text)], door="smpp")


def _describe(outcome: SendOutcome | Exception) -> str:
    if isinstance(outcome, Exception):
        return type(outcome).__name__
    return str(outcome.accepted[0][0])


async def test_one_call_per_account_and_loop_turn_and_answers_in_order() -> None:
    gateway = _Gateway()
    queue: SubmitQueue[str] = SubmitQueue(gateway)  # type: ignore[arg-type]
    futures = [
        queue.send(ALICE, _sms("a1"), _describe),
        queue.send(BOB, _sms("b1"), _describe),
        queue.send(ALICE, _sms("slow down"), _describe),
        queue.send(ALICE, _sms("a3"), _describe),
    ]
    answers = await asyncio.wait_for(asyncio.gather(*futures), 5)
    assert answers == ["100", "200", "RateLimited", "102"]
    assert sorted(gateway.calls) == [(1, ["a1", "slow down", "a3"]), (2, ["b1"])]
    later = await asyncio.wait_for(queue.send(ALICE, _sms("a4"), _describe), 5)
    assert later == "100" and len(gateway.calls) == 3  # the next turn is a call of its own


async def test_a_failed_call_answers_every_submit_and_a_gone_caller_is_still_answered() -> None:
    queue: SubmitQueue[str] = SubmitQueue(_Gateway(fail=True))  # type: ignore[arg-type]
    seen: list[str] = []

    def answer(outcome: SendOutcome | Exception) -> str:
        seen.append(_describe(outcome))  # the door closes its ticket here, answered or not
        return seen[-1]

    kept = queue.send(ALICE, _sms("a1"), answer)
    gone = queue.send(ALICE, _sms("a2"), answer)
    gone.cancel()
    assert await asyncio.wait_for(kept, 5) == "RuntimeError"
    await asyncio.wait_for(queue.close(), 5)
    assert seen == ["RuntimeError", "RuntimeError"]
