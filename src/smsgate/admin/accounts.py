"""`smsgate admin accounts …`: create, list, show, disable, enable and set an account's rate
limit. A new account gets its API token here, printed once; only its hash is stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smsgate.admin.errors import Refused
from smsgate.admin.inputs import checked_amount, checked_currency, checked_login
from smsgate.admin.lookup import credentials_of, summary_of
from smsgate.admin.report import print_json, print_table, say
from smsgate.admin.store_session import (
    ConfigOption,
    JsonOption,
    LoginArgument,
    reports_refusals,
    run,
)
from smsgate.domain.money import format_money
from smsgate.gateway.credentials import hash_token, new_token
from smsgate.store.records import AccountSummary
from smsgate.store.roles import AccountAdmin

app = typer.Typer(no_args_is_help=True, help="Accounts: create, list, show, disable, enable.")


@app.command()
@reports_refusals
def create(
    login: LoginArgument,
    currency: Annotated[str, typer.Option(help="ISO 4217 currency of the account")] = "UAH",
    rate_limit: Annotated[
        float, typer.Option(min=0, help="Requests per second; 0 is unlimited")
    ] = 9.0,
    max_binds: Annotated[int, typer.Option(min=0, help="SMPP binds at once")] = 4,
    balance: Annotated[str, typer.Option(help="Opening balance, e.g. 100 or 12.5")] = "0",
    config: ConfigOption = None,
) -> None:
    """Create an account and issue its API token (shown once)."""
    checked_login(login)
    code = checked_currency(currency)
    opening = checked_amount(balance, what="balance")
    if opening < 0:
        raise Refused(f"bad balance {balance!r}: an opening balance is not negative")
    token = new_token()

    async def work(store: AccountAdmin) -> int:
        record = await store.create_account(
            login, currency=code, rate_limit=rate_limit, max_binds=max_binds
        )
        await store.set_token_hash(record.id, hash_token(token))
        if opening:
            await store.top_up(record.id, opening)
        return record.id

    account_id = run(config, work)
    say(f"account {login!r} created, id {account_id}")
    say(f"API token (shown once, store it now): {token}")


def _row(summary: AccountSummary) -> dict[str, object]:
    account, balance = summary.account, summary.balance
    return {
        "id": account.id,
        "login": account.login,
        "active": account.active,
        "admin": account.admin,
        "currency": account.currency,
        "balance": format_money(balance.balance),
        "reserved": format_money(balance.reserved),
        "charged": format_money(balance.charged),
        "rate_limit": account.rate_limit,
        "max_binds": account.max_binds,
        "has_token": summary.has_token,
        "has_smpp_password": summary.has_smpp_password,
        "senders": list(summary.senders),
    }


@app.command("list")
@reports_refusals
def list_(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Every account with its balance and credentials' presence."""
    summaries = run(config, lambda store: store.list_accounts())
    rows = [_row(s) for s in summaries]
    if json:
        print_json(rows)
        return
    print_table(
        "accounts",
        ["id", "login", "active", "balance", "rate/s", "binds", "token", "smpp", "senders"],
        [
            [
                r["id"],
                r["login"],
                r["active"],
                f"{r['balance']} {r['currency']}",
                r["rate_limit"],
                r["max_binds"],
                r["has_token"],
                r["has_smpp_password"],
                ", ".join(s.senders) or None,
            ]
            for r, s in zip(rows, summaries, strict=True)
        ],
    )


@app.command()
@reports_refusals
def show(login: LoginArgument, config: ConfigOption = None, json: JsonOption = False) -> None:
    """One account in full."""

    async def work(store: AccountAdmin) -> dict[str, object]:
        creds = await credentials_of(store, login)
        row = _row(await summary_of(store, login))
        row["has_password"] = creds.password_hash is not None
        return row

    row = run(config, work)
    if json:
        print_json(row)
        return
    shown = dict(row)
    shown["senders"] = ", ".join(row["senders"]) if isinstance(row["senders"], list) else ""
    print_table(f"account {login}", ["field", "value"], list(shown.items()))


def _set_active(login: str, active: bool, config: Path | None) -> None:
    async def work(store: AccountAdmin) -> bool:
        creds = await credentials_of(store, login)
        await store.set_active(creds.account.id, active)
        return creds.account.active

    was = run(config, work)
    state = "enabled" if active else "disabled"
    say(f"account {login!r} {'was already ' if was == active else ''}{state}")


@app.command()
@reports_refusals
def disable(login: LoginArgument, config: ConfigOption = None) -> None:
    """Refuse the account's requests on every door until enabled again."""
    _set_active(login, False, config)


@app.command()
@reports_refusals
def enable(login: LoginArgument, config: ConfigOption = None) -> None:
    """Accept the account's requests again."""
    _set_active(login, True, config)


@app.command("set-admin")
@reports_refusals
def set_admin(
    login: LoginArgument,
    off: Annotated[bool, typer.Option("--off", help="Take the operator role away")] = False,
    config: ConfigOption = None,
) -> None:
    """Give the account the operator role: the dashboard's accounts, top-ups and connectors."""

    async def work(store: AccountAdmin) -> bool:
        creds = await credentials_of(store, login)
        await store.set_admin(creds.account.id, not off)
        return creds.account.admin

    was = run(config, work)
    state = "not an operator" if off else "an operator"
    say(f"account {login!r} {'was already ' if was == (not off) else 'is now '}{state}")


@app.command("set-rate-limit")
@reports_refusals
def set_rate_limit(
    login: LoginArgument,
    rate: Annotated[float, typer.Argument(min=0, help="Requests per second; 0 is unlimited")],
    config: ConfigOption = None,
) -> None:
    """Change how many requests per second the account may make."""

    async def work(store: AccountAdmin) -> None:
        creds = await credentials_of(store, login)
        await store.set_rate_limit(creds.account.id, rate)

    run(config, work)
    say(f"account {login!r} rate limit {rate:g}/s" if rate else f"account {login!r} unlimited")
