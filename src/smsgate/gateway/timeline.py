"""A message's life as a timeline: accepted, each part taken by the operator (with its id),
each part's end (delivered, undelivered, expired, rejected), in time order.

Read from the message and its parts, the rows its status is folded from, not from the event
log: the log is keyed by (account, seq) for replay, and finding one message's events there
would walk the account's whole log (an index by message would cost every event a second
write, on the receipt path).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from smsgate.domain.status import FINAL_STATES, PartState, Status
from smsgate.immutable import record
from smsgate.store.records import PartView

StepType = Literal["accepted", "submitted", "delivered", "undelivered", "expired", "rejected"]

_ENDS: dict[PartState, StepType] = {
    PartState.DELIVRD: "delivered",
    PartState.UNDELIV: "undelivered",
    PartState.EXPIRED: "expired",
    PartState.REJECTD: "rejected",
}
_STATUS_ENDS: dict[Status, StepType] = {
    Status.DELIVRD: "delivered",
    Status.UNDELIV: "undelivered",
    Status.EXPIRED: "expired",
    Status.REJECTD: "rejected",
}


@record
class Step:
    at: float
    type: StepType
    part: int | None = None  # the part's seq; None for the message as a whole
    operator_id: str | None = None  # submitted: the operator's id of the part
    error: int | None = None  # an end's error code, when it has one


class MessageEnd(Protocol):
    """What a timeline reads of the message itself (a MessageView or a log's MessageLine)."""

    @property
    def created_at(self) -> float: ...
    @property
    def status(self) -> Status: ...
    @property
    def done_at(self) -> float | None: ...
    @property
    def error(self) -> int: ...


def timeline(message: MessageEnd, parts: Sequence[PartView]) -> list[Step]:
    steps = [Step(message.created_at, "accepted")]
    ended = False
    for part in parts:
        if part.submitted_at is not None:
            steps.append(Step(part.submitted_at, "submitted", part.seq, part.operator_id))
        if part.done_at is not None and part.state in FINAL_STATES:
            ended = True
            steps.append(Step(part.done_at, _ENDS[part.state], part.seq, error=part.error or None))
    # A message ended without a part's end time (refused whole before its parts were stored).
    if not ended and message.status is not Status.ENROUTE and message.done_at is not None:
        steps.append(
            Step(message.done_at, _STATUS_ENDS[message.status], error=message.error or None)
        )
    return sorted(steps, key=lambda step: step.at)
