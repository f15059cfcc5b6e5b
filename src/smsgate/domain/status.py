"""Message and part statuses: the five public values, the internal part states, and the
rules that keep them monotonic and fold a message's parts into one status.

Pure values only; the store and the doors both lean on these rules so they live in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum


class Status(StrEnum):
    """The public statuses every door reports, exactly as the wire contract spells them."""

    ENROUTE = "ENROUTE"
    DELIVRD = "DELIVRD"
    EXPIRED = "EXPIRED"
    UNDELIV = "UNDELIV"
    REJECTD = "REJECTD"


class PartState(IntEnum):
    """Where one SMS part is. Values order the life of a part: a state never moves to a
    smaller value, and every value >= DELIVRD is final."""

    QUEUED = 0  # accepted, waiting for the dispatcher
    SENDING = 1  # claimed by a node, submit_sm in flight
    SUBMITTED = 2  # the operator answered submit_sm_resp OK; waiting for its receipt
    DELIVRD = 10
    EXPIRED = 11
    UNDELIV = 12
    REJECTD = 13


FINAL_STATES = frozenset(
    {PartState.DELIVRD, PartState.EXPIRED, PartState.UNDELIV, PartState.REJECTD}
)

_PUBLIC = {
    PartState.QUEUED: Status.ENROUTE,
    PartState.SENDING: Status.ENROUTE,
    PartState.SUBMITTED: Status.ENROUTE,
    PartState.DELIVRD: Status.DELIVRD,
    PartState.EXPIRED: Status.EXPIRED,
    PartState.UNDELIV: Status.UNDELIV,
    PartState.REJECTD: Status.REJECTD,
}

# When parts of one message end differently, the message reports the most telling failure.
_FAILURE_PRIORITY = (PartState.REJECTD, PartState.UNDELIV, PartState.EXPIRED)


def is_final(state: PartState) -> bool:
    return state in FINAL_STATES


def public_status(state: PartState) -> Status:
    return _PUBLIC[state]


def advance(current: PartState, new: PartState) -> PartState:
    """The state after `new` is reported for a part in `current`.

    A final state is never left (a late ENROUTE or a second, different final receipt does not
    overwrite DELIVRD), and a non-final state only moves forward.
    """
    if is_final(current):
        return current
    return new if new > current else current


def fold(states: Iterable[PartState]) -> Status:
    """One public status for a message from the states of its parts."""
    seen = list(states)
    if not seen or not all(is_final(s) for s in seen):
        return Status.ENROUTE
    for failure in _FAILURE_PRIORITY:
        if failure in seen:
            return _PUBLIC[failure]
    return Status.DELIVRD
