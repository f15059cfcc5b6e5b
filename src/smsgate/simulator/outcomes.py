"""The fate of one simulated message: decided by a magic number at the end of the destination,
else drawn from the configured mix. Pure: no I/O, no clock.

    ...0001 UNDELIV   ...0002 EXPIRED   ...0003 REJECTD   (receipts after the usual delay)
    ...0004 submit answered ESME_RTHROTTLED (no id, no receipt)
    ...0005 submit answered ESME_RSUBMITFAIL (permanent; no id, no receipt)
    ...0006 DELIVRD, receipt delayed 5x     ...0007 accepted, but no receipt ever
    ...0099 DELIVRD, and the number replies with an inbound SMS (mobile.py)
"""

from __future__ import annotations

import random
from typing import Final

from smsgate.immutable import record
from smsgate.simulator.mobile import REPLY_SUFFIX
from smsgate.smpp.constants import CommandStatus, MessageState
from smsgate.smpp.receipt import message_state_for_stat


@record
class Outcome:
    submit_status: int = CommandStatus.ESME_ROK
    stat: str | None = "DELIVRD"  # the receipt's stat; None: no receipt
    delay_factor: float = 1.0
    reply: bool = False  # the destination answers with an MO after the receipt delay

    @property
    def message_state(self) -> MessageState:
        return message_state_for_stat(self.stat or "ENROUTE")

    @property
    def failed(self) -> bool:
        return self.stat not in (None, "DELIVRD", "ACCEPTD", "ENROUTE")


# The error code reported in `err:` per stat, like a GSM network would (0 when delivered).
ERR_OF_STAT: Final[dict[str, int]] = {
    "DELIVRD": 0,
    "UNDELIV": 1,
    "EXPIRED": 27,
    "REJECTD": 11,
    "DELETED": 6,
    "UNKNOWN": 255,
    "ACCEPTD": 0,
}

MAGIC_NUMBERS: Final[dict[str, Outcome]] = {
    "0001": Outcome(stat="UNDELIV"),
    "0002": Outcome(stat="EXPIRED"),
    "0003": Outcome(stat="REJECTD"),
    "0004": Outcome(submit_status=CommandStatus.ESME_RTHROTTLED, stat=None),
    "0005": Outcome(submit_status=CommandStatus.ESME_RSUBMITFAIL, stat=None),
    "0006": Outcome(delay_factor=5.0),
    "0007": Outcome(stat=None),
    REPLY_SUFFIX: Outcome(reply=True),
}


class OutcomePicker:
    def __init__(self, mix: dict[str, float], seed: int | None = None) -> None:
        if not mix or any(w < 0 for w in mix.values()) or sum(mix.values()) <= 0:
            raise ValueError("the outcome mix needs at least one positive weight")
        self._stats = list(mix)
        self._weights = [mix[s] for s in self._stats]
        self._outcomes = {s: Outcome(stat=s) for s in self._stats}
        self._single = self._outcomes[self._stats[0]] if len(self._stats) == 1 else None
        self._random = random.Random(seed)

    def pick(self, destination: str) -> Outcome:
        magic = MAGIC_NUMBERS.get(destination[-4:])
        if magic is not None:
            return magic
        if self._single is not None:
            return self._single
        stat = self._random.choices(self._stats, self._weights)[0]
        return self._outcomes[stat]


def parse_mix(text: str) -> dict[str, float]:
    """`DELIVRD=0.9,UNDELIV=0.1` as a mix."""
    mix: dict[str, float] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        stat, sep, weight = item.partition("=")
        if not sep:
            raise ValueError(f"mix entry {item!r} is not STAT=WEIGHT")
        mix[stat.strip().upper()] = float(weight)
    return mix
