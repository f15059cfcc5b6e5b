"""What a send would cost before it is sent: encoding, parts, the characters that force UCS-2,
the price of each recipient and in total, and whether the balance covers it.

Reads the same rules the Submitter applies (its split, its tariffs, its number checks) so a
quote never disagrees with the send that follows; it stores nothing and charges nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from smsgate.domain.gsm7 import is_gsm7
from smsgate.domain.segments import GSM7, EmptyText, split_text
from smsgate.gateway.errors import Rejection
from smsgate.gateway.submit import Submitter
from smsgate.immutable import record
from smsgate.store.records import AccountRecord, Balance


@record
class Quote:
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
        forcing_ucs2=tuple(ch for ch in dict.fromkeys(text) if not is_gsm7(ch)),
        priced=tuple(priced),
        refused=tuple(refused),
        total=sum(price for _, price in priced),
        balance=balance,
    )
