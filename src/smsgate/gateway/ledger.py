"""An account's money as its ledger, for the doors: pages newest first with the balance after
each line, and the check that every balance is the sum of its ledger (store/ledger.py says
where the lines come from).

Reads only; it must not move money. The balance after a line is counted down from the
balance read with the first page, which the cursor carries on, so later pages need no sum.
"""

from __future__ import annotations

from typing import Protocol

from smsgate.immutable import record
from smsgate.store import roles
from smsgate.store.ledger import position_after
from smsgate.store.records import AccountRecord, LedgerCheck, LedgerEntry, LedgerPosition

MAX_LEDGER_PAGE = 500
# A line committed between the balance's read and the page's would offset the first page's
# balances; reading both again until the balance holds still settles it.
_READS = 3


class LedgerStore(roles.Ledger, roles.AccountReads, Protocol):
    """What the ledger asks of the store."""


@record
class LedgerCursor:
    """Where the next page starts, and the balance right after its first line."""

    position: LedgerPosition
    balance: int


@record
class LedgerLine:
    entry: LedgerEntry
    balance_after: int


@record
class LedgerPage:
    lines: tuple[LedgerLine, ...]
    currency: str
    next: LedgerCursor | None  # None: this was the last page


class LedgerBook:
    def __init__(self, store: LedgerStore) -> None:
        self._store = store

    async def page(
        self, account: AccountRecord, cursor: LedgerCursor | None, limit: int
    ) -> LedgerPage:
        """Up to `limit` lines (1..MAX_LEDGER_PAGE) past `cursor`, newest first."""
        limit = max(1, min(limit, MAX_LEDGER_PAGE))
        if cursor is None:
            position = LedgerPosition()
            balance = (await self._store.balance(account.id)).balance
            for _ in range(_READS):
                entries = await self._store.ledger_page(account.id, position, limit + 1)
                again = (await self._store.balance(account.id)).balance
                if again == balance:
                    break
                balance = again
        else:
            position, balance = cursor.position, cursor.balance
            entries = await self._store.ledger_page(account.id, position, limit + 1)
        shown = entries[:limit]
        lines = []
        for entry in shown:
            lines.append(LedgerLine(entry, balance))
            balance -= entry.amount
        following = None
        if len(entries) > limit:
            following = LedgerCursor(position_after(shown, position), balance)
        return LedgerPage(tuple(lines), account.currency, following)

    async def check(self, account_id: int | None = None) -> list[LedgerCheck]:
        """Each account's balance against its ledger's sum (LedgerCheck.ok)."""
        return await self._store.ledger_check(account_id)
