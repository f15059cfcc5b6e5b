"""`smsgate admin balance top-up | show | check`: money on an account, and the proof that
every balance is the sum of its ledger. Amounts are decimal text parsed
to ten-thousandths; a negative amount is a correction, taken only with --allow-negative, and the
store never lets a balance go below zero.
"""

from __future__ import annotations

from typing import Annotated

import typer

from smsgate.admin.errors import Refused
from smsgate.admin.inputs import checked_amount
from smsgate.admin.lookup import credentials_of
from smsgate.admin.report import print_json, print_table, say
from smsgate.admin.store_session import (
    ConfigOption,
    JsonOption,
    LoginArgument,
    fail,
    reports_refusals,
    run,
)
from smsgate.domain.money import format_money
from smsgate.store.interface import Store
from smsgate.store.records import Balance, LedgerCheck
from smsgate.store.roles import AccountAdmin

app = typer.Typer(no_args_is_help=True, help="Money: top up (or correct) and show a balance.")


def _as_dict(login: str, balance: Balance) -> dict[str, object]:
    return {
        "login": login,
        "currency": balance.currency,
        "balance": format_money(balance.balance),
        "reserved": format_money(balance.reserved),
        "charged": format_money(balance.charged),
    }


# A negative amount looks like an option to the parser; let it through to the argument.
@app.command("top-up", context_settings={"ignore_unknown_options": True})
@reports_refusals
def top_up(
    login: LoginArgument,
    amount: Annotated[str, typer.Argument(help="Decimal amount, e.g. 100 or 12.5")],
    allow_negative: Annotated[
        bool, typer.Option("--allow-negative", help="Take money back (a correction)")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Add money to an account's balance."""
    units = checked_amount(amount)
    if units == 0:
        raise Refused(f"bad amount {amount!r}: a top-up of zero changes nothing")
    if units < 0 and not allow_negative:
        raise Refused(f"amount {amount} is negative: a correction needs --allow-negative")

    async def work(store: AccountAdmin) -> Balance:
        account_id = (await credentials_of(store, login)).account.id
        return await store.top_up(account_id, units)

    balance = run(config, work)
    say(
        f"{login!r}: {'+' if units > 0 else ''}{format_money(units)}, balance now"
        f" {format_money(balance.balance)} {balance.currency}"
    )


@app.command()
@reports_refusals
def show(login: LoginArgument, config: ConfigOption = None, json: JsonOption = False) -> None:
    """An account's spendable balance, the money held for queued parts, and what was spent."""

    async def work(store: AccountAdmin) -> Balance:
        account_id = (await credentials_of(store, login)).account.id
        return await store.balance(account_id)

    row = _as_dict(login, run(config, work))
    if json:
        print_json(row)
        return
    print_table(f"balance of {login}", ["field", "value"], list(row.items()))


@app.command()
@reports_refusals
def check(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Prove every balance is the sum of its ledger; exit 1 when one is not."""

    async def work(store: Store) -> tuple[list[LedgerCheck], dict[int, str]]:
        logins = {s.account.id: s.account.login for s in await store.list_accounts()}
        return await store.ledger_check(), logins

    checks, logins = run(config, work)
    rows = [
        {
            "login": logins.get(c.account_id, str(c.account_id)),
            "balance": format_money(c.balance),
            "ledger": format_money(c.ledger),
            "held": format_money(c.held),
            "spent": format_money(c.spent),
            "ok": c.ok,
        }
        for c in checks
    ]
    if json:
        print_json(rows)
    else:
        print_table(
            "balances against their ledgers (held: reserved + charged; spent: by the ledger)",
            ["login", "balance", "ledger", "held", "spent", "ok"],
            [list(r.values()) for r in rows],
        )
    wrong = [r["login"] for r in rows if not r["ok"]]
    if wrong:
        fail(f"the ledger does not add up for {', '.join(map(str, wrong))}")
