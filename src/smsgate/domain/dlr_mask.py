"""Which statuses a message's callback is pushed on, as Kannel's dlr-mask says it (the
HTTP gateway's `dlr_level`, the JSON and XML `callback_events`): a sum of bits,

  1  delivered to the phone      DELIVRD
  2  not delivered to the phone  UNDELIV, EXPIRED, REJECTD (a receipt's stat)
  4  buffered by the operator    ENROUTE
  8  taken by the operator       ENROUTE (submit_sm_resp OK)
  16 refused by the operator     REJECTD (our REJECTD does not tell the two apart)

so 3 or 19 is every final status, 31 every status. The words "final" (19) and "all" (31)
say the same. ENROUTE is pushed once, when the operator takes the message (4 and 8 alike).
Pure values only.
"""

from __future__ import annotations

from smsgate.domain.status import Status

DELIVERED = 1
FAILED = 2
BUFFERED = 4
SUBMITTED = 8
REJECTED = 16
FINAL = DELIVERED | FAILED | REJECTED  # 19: the default
ALL = FINAL | BUFFERED | SUBMITTED  # 31
_ON_THE_WAY = BUFFERED | SUBMITTED

_BITS = {
    Status.DELIVRD: DELIVERED,
    Status.UNDELIV: FAILED,
    Status.EXPIRED: FAILED,
    Status.REJECTD: FAILED | REJECTED,
}
_WORDS = {"": FINAL, "final": FINAL, "all": ALL}


class BadMask(ValueError):
    """Not a dlr-mask: the reason says what one is."""


def parse(text: str) -> int:
    """The mask a request names: a word, or a whole number from 1 to 31."""
    value = text.strip().lower()
    if value in _WORDS:
        return _WORDS[value]
    if value.isdigit() and 1 <= int(value) <= ALL:
        return int(value)
    raise BadMask("Callback events must be final, all, or a Kannel dlr-mask from 1 to 31")


def every_status(mask: int) -> bool:
    """Whether the mask asks for ENROUTE as well as final statuses."""
    return bool(mask & _ON_THE_WAY)


def wants(status: Status, every: bool, mask: int) -> bool:
    """Whether a callback with this mask is pushed on `status`."""
    if status is Status.ENROUTE:
        return every
    return bool(mask & _BITS[status])
