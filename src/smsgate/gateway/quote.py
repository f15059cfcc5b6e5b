"""What a send would cost, without sending: encoding, parts, the characters that force UCS-2,
the price of each recipient and in total, and whether the balance covers it.

Two shapes over the Submitter's own rules, so a quote never disagrees with the send that
follows: `priced` (a recipient of what Submitter.plan() staged: the native API's quote and its
send answers) and `quote` (one text to many numbers, even a text still being typed: the
dashboard's live quote). It must not store or reserve anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from smsgate.domain.gsm7 import is_gsm7
from smsgate.domain.segments import GSM7, EmptyText, split_text
from smsgate.gateway.errors import Rejection
from smsgate.gateway.submit import ReadyRecipient, Submitter
from smsgate.immutable import record
from smsgate.store.records import AccountRecord, Balance

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


@record
class Quote:
    """One text to many numbers, as the dashboard's form shows it while it is typed."""

    encoding: str  # "GSM-7" or "UCS-2"; "" for an empty text
    parts: int  # per recipient
    units: int  # septets (GSM-7, escapes count two) or UTF-16 units (UCS-2)
    forcing_ucs2: tuple[str, ...]  # the text's characters outside GSM-7, each once
    priced: tuple[tuple[str, int], ...]  # (phone as given, price of its parts)
    refused: tuple[tuple[str, Rejection], ...]  # (phone as given, why it cannot be sent)
    total: int
    balance: Balance

    @property
    def covered(self) -> bool:
        return self.total <= self.balance.balance


async def quote(
    submitter: Submitter,
    account: AccountRecord,
    phones: Sequence[str],
    text: str,
    balance: Balance,
) -> Quote:
    """A text that cannot be split (empty) quotes zero parts rather than refusing: the form
    asks again on every keystroke."""
    try:
        segmented = split_text(text)
    except (EmptyText, ValueError):
        segmented = None
    parts = len(segmented.parts) if segmented is not None else 0
    priced: list[tuple[str, int]] = []
    refused: list[tuple[str, Rejection]] = []
    for phone, price in zip(phones, await submitter.prices(account, phones), strict=True):
        if isinstance(price, Rejection):
            refused.append((phone, price))
        else:
            priced.append((phone, price * parts))
    encoding = ""
    if segmented is not None:
        encoding = "GSM-7" if segmented.data_coding == GSM7 else "UCS-2"
    return Quote(
        encoding=encoding,
        parts=parts,
        units=segmented.units if segmented is not None else 0,
        forcing_ucs2=forcing_ucs2(text),
        priced=tuple(priced),
        refused=tuple(refused),
        total=sum(price for _, price in priced),
        balance=balance,
    )
