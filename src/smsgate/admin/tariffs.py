"""`smsgate admin tariffs set | remove | list | import`: prices per destination prefix, for the
default plan (no --account) or one account's own plan. Prices are decimal text stored as
ten-thousandths per SMS part; the longest matching prefix wins when a message is priced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smsgate.admin.errors import Refused
from smsgate.admin.inputs import checked_prefix, checked_price, shown_prefix
from smsgate.admin.lookup import credentials_of
from smsgate.admin.report import print_json, print_table, say
from smsgate.admin.store_session import ConfigOption, JsonOption, fail, reports_refusals, run
from smsgate.admin.tariff_csv import BadTariffFile, read_tariff_csv
from smsgate.domain.money import format_money
from smsgate.store.records import Tariff
from smsgate.store.roles import AccountAdmin

app = typer.Typer(no_args_is_help=True, help="Tariffs: price per destination prefix.")

# Ids start at 1, so asking for account 0's tariffs yields the default plan's alone.
_NO_ACCOUNT = 0

AccountOption = Annotated[
    str | None, typer.Option("--account", help="An account's own plan (default: the default plan)")
]
PrefixArgument = Annotated[
    str, typer.Argument(help='International digits, e.g. 380; "default" or "" for the catch-all')
]


async def _owner(store: AccountAdmin, login: str | None) -> int | None:
    return None if login is None else (await credentials_of(store, login)).account.id


def _plan(login: str | None) -> str:
    return "the default plan" if login is None else f"the plan of {login!r}"


# A negative price would read as an unknown option; let it reach the argument and its message.
@app.command("set", context_settings={"ignore_unknown_options": True})
@reports_refusals
def set_(
    prefix: PrefixArgument,
    price: Annotated[str, typer.Argument(help="Price per SMS part, e.g. 0.55")],
    account: AccountOption = None,
    config: ConfigOption = None,
) -> None:
    """Set (or change) the price for a prefix."""
    digits, units = checked_prefix(prefix), checked_price(price)

    async def work(store: AccountAdmin) -> None:
        await store.set_tariff(Tariff(await _owner(store, account), digits, units))

    run(config, work)
    say(f"{_plan(account)}: {shown_prefix(digits)} costs {format_money(units)} per part")


@app.command()
@reports_refusals
def remove(
    prefix: PrefixArgument, account: AccountOption = None, config: ConfigOption = None
) -> None:
    """Remove the price for a prefix."""
    digits = checked_prefix(prefix)

    async def work(store: AccountAdmin) -> None:
        if not await store.remove_tariff(await _owner(store, account), digits):
            raise Refused(f"{_plan(account)} has no tariff for prefix {shown_prefix(digits)}")

    run(config, work)
    say(f"{_plan(account)}: tariff for {shown_prefix(digits)} removed")


@app.command("list")
@reports_refusals
def list_(
    account: AccountOption = None, config: ConfigOption = None, json: JsonOption = False
) -> None:
    """The default plan, or an account's own tariffs followed by the default plan's."""

    async def work(store: AccountAdmin) -> list[Tariff]:
        owner = await _owner(store, account)
        return await store.tariffs(_NO_ACCOUNT if owner is None else owner)

    rows = [
        {
            "plan": "default" if t.account_id is None else account,
            "prefix": t.prefix,
            "price": format_money(t.price),
        }
        for t in run(config, work)
    ]
    if json:
        print_json(rows)
        return
    print_table(
        "default plan" if account is None else f"tariffs of {account}, then the default plan",
        ["plan", "prefix", "price"],
        [[r["plan"], shown_prefix(str(r["prefix"])), r["price"]] for r in rows],
    )


@app.command("import")
@reports_refusals
def import_(
    file: Annotated[Path, typer.Argument(help="CSV with columns prefix,price")],
    account: AccountOption = None,
    config: ConfigOption = None,
) -> None:
    """Set every tariff of a CSV file; a file with any bad row imports nothing."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(f"cannot read {file}: {exc}") from None
    try:
        rows = read_tariff_csv(text)
    except BadTariffFile as exc:
        for problem in exc.problems:
            typer.echo(f"{file}: {problem}", err=True)
        fail(f"{file}: {exc}")

    async def work(store: AccountAdmin) -> None:
        owner = await _owner(store, account)
        for row in rows:
            await store.set_tariff(Tariff(owner, row.prefix, row.price))

    run(config, work)
    say(f"{_plan(account)}: {len(rows)} tariff(s) imported from {file}")
