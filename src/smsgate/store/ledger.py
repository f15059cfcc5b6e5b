"""The money ledger: every change of an account's spendable balance, read as the union of its
two sources, never kept twice.

- A message row is its own charge: `parts x price_per_part`, at `created_at`. Accepting writes
  no ledger row (a second row per message would cost the hot path a B-tree write).
- `ledger_entries` holds the rest, each written in the transaction that moves its money:
  top-ups and corrections (sql_accounts), refunds (progress.save_parts), and one `carried` row
  per account into which retention folds the charges of the messages it deletes (here).

So `balance == sum(ledger)` holds at every commit, and after any crash; `ledger_check` proves
it. Functions here work inside an open transaction or on values; they never commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, func, select, update

from smsgate.store.records import LedgerEntry, LedgerKind, LedgerPosition
from smsgate.store.schema import ledger_entries, messages


def merge_newest(
    entries: Sequence[LedgerEntry], charges: Sequence[LedgerEntry], limit: int
) -> list[LedgerEntry]:
    """The newest `limit` of two sources each already newest first, merged by time. Each
    source is consumed in its own order (never an entry past one left out), so a page's
    position per source (`position_after`) skips and repeats nothing."""
    page: list[LedgerEntry] = []
    i = j = 0
    while len(page) < limit and (i < len(entries) or j < len(charges)):
        if j >= len(charges) or (i < len(entries) and entries[i].at >= charges[j].at):
            page.append(entries[i])
            i += 1
        else:
            page.append(charges[j])
            j += 1
    return page


def position_after(page: Sequence[LedgerEntry], start: LedgerPosition) -> LedgerPosition:
    """Where the next page starts: past the last entry of each source on this page."""
    entry_at, entry_id, charge_before = start.entry_at, start.entry_id, start.charge_before
    for e in page:
        if e.kind is LedgerKind.CHARGE:
            charge_before = e.message_id
        else:
            entry_at, entry_id = e.at, e.entry_id
    return LedgerPosition(entry_at, entry_id, charge_before)


def carry_forward(conn: Connection, message_ids: Sequence[int]) -> None:
    """Fold the charges of these messages, about to be deleted, into their accounts' `carried`
    rows (one per account, at its newest folded charge), so the ledger keeps their money."""
    if not message_ids:
        return
    folded = conn.execute(
        select(
            messages.c.account_id,
            func.sum(messages.c.parts * messages.c.price_per_part),
            func.max(messages.c.created_at),
        )
        .where(messages.c.id.in_(message_ids), messages.c.price_per_part > 0)
        .group_by(messages.c.account_id)
        .order_by(messages.c.account_id)
    ).all()
    for account_id, cost, newest in folded:
        carried = conn.execute(
            select(ledger_entries.c.id, ledger_entries.c.at).where(
                ledger_entries.c.account_id == account_id,
                ledger_entries.c.kind == LedgerKind.CARRIED.value,
            )
        ).first()
        if carried is None:
            conn.execute(
                ledger_entries.insert().values(
                    account_id=account_id,
                    kind=LedgerKind.CARRIED.value,
                    amount=-int(cost),
                    at=newest,
                    message_id=None,
                )
            )
        else:
            conn.execute(
                update(ledger_entries)
                .where(ledger_entries.c.id == carried.id)
                .values(amount=ledger_entries.c.amount - int(cost), at=max(carried.at, newest))
            )
