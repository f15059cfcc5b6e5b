"""What a send would cost, recipient by recipient, without sending: encoding, parts, the
characters that force UCS-2, price. The native API's quote and its send answers use it.

Pure arithmetic over what Submitter.plan() staged; it must not store or reserve anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from smsgate.domain.gsm7 import is_gsm7
from smsgate.domain.segments import GSM7
from smsgate.gateway.errors import Rejection
from smsgate.gateway.submit import ReadyRecipient
from smsgate.immutable import record

# One character that forces UCS-2 is listed once; a long text lists at most this many.
_MAX_FORCING = 32


@record
class Priced:
    """One recipient as it would be sent."""

    phone: str  # as given
    number: str  # international digits
    text: str
    encoding: str  # "GSM-7" or "UCS-2"
    parts: int
    characters: int  # septets (extension characters count two) or UTF-16 units
    ucs2_characters: tuple[str, ...]  # the characters that force UCS-2, in order of appearance
    price_per_part: int
    price: int


@record
class SendQuote:
    recipients: tuple[Priced, ...]
    rejected: tuple[tuple[str, Rejection], ...]  # (phone as given, why)
    total: int
    currency: str
    balance: int

    @property
    def covered(self) -> bool:
        return self.total <= self.balance


def priced(staged: ReadyRecipient) -> Priced:
    item, number, seg, price = staged
    gsm = seg.data_coding == GSM7
    parts = len(seg.parts)
    return Priced(
        phone=item.phone,
        number=number,
        text=item.text,
        encoding="GSM-7" if gsm else "UCS-2",
        parts=parts,
        characters=seg.units,
        ucs2_characters=() if gsm else forcing_ucs2(item.text),
        price_per_part=price,
        price=price * parts,
    )


def forcing_ucs2(text: str) -> tuple[str, ...]:
    """The distinct characters of `text` outside the GSM-7 alphabet and its extension."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in seen and not is_gsm7(ch):
            seen[ch] = None
            if len(seen) >= _MAX_FORCING:
                break
    return tuple(seen)


def total_of(recipients: Sequence[Priced]) -> int:
    return sum(r.price for r in recipients)


def accepted_priced(
    planned: Sequence[Priced], accepted: Sequence[tuple[int, str]]
) -> list[tuple[int, Priced]]:
    """Each accepted id with its recipient's price. The store accepts a subsequence of what was
    planned, in order (it refuses duplicates and what money does not cover), so one walk pairs
    them by the phone as given."""
    paired: list[tuple[int, Priced]] = []
    at = 0
    for message_id, phone in accepted:
        while at < len(planned) and planned[at].phone != phone:
            at += 1
        if at == len(planned):
            raise AssertionError(f"accepted {phone!r} was not planned")
        paired.append((message_id, planned[at]))
        at += 1
    return paired
