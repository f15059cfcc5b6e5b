"""Kannel's dlr-mask as a message's callback takes it: words or a sum of bits from 1 to 31,
each final status behind its bit, ENROUTE behind 4 or 8."""

from __future__ import annotations

import pytest

from smsgate.domain import dlr_mask
from smsgate.domain.status import Status


@pytest.mark.parametrize(
    ("text", "mask"), [("", 19), ("final", 19), (" ALL ", 31), ("1", 1), ("31", 31)]
)
def test_words_and_numbers_name_a_mask(text: str, mask: int) -> None:
    assert dlr_mask.parse(text) == mask


@pytest.mark.parametrize("text", ["0", "32", "-1", "2.0", "every", "0x1f"])
def test_anything_else_is_refused_saying_what_a_mask_is(text: str) -> None:
    with pytest.raises(dlr_mask.BadMask, match="Kannel dlr-mask from 1 to 31"):
        dlr_mask.parse(text)


def test_each_status_is_behind_its_bits() -> None:
    def pushed(mask: int) -> set[Status]:
        every = dlr_mask.every_status(mask)
        return {s for s in Status if dlr_mask.wants(s, every, mask)}

    assert pushed(1) == {Status.DELIVRD}
    assert pushed(2) == {Status.UNDELIV, Status.EXPIRED, Status.REJECTD}
    assert pushed(16) == {Status.REJECTD}
    assert pushed(8) == pushed(4) == {Status.ENROUTE}
    assert pushed(19) == set(Status) - {Status.ENROUTE}
    assert pushed(31) == set(Status)
