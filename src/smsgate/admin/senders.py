"""`smsgate admin senders add | remove | list`: the sender names (originators) an account may
send from. A name is checked here before it is stored; the doors only look names up.
"""

from __future__ import annotations

from typing import Annotated

import typer

from smsgate.admin.errors import Refused
from smsgate.admin.inputs import checked_sender_name
from smsgate.admin.lookup import credentials_of
from smsgate.admin.report import print_json, print_table, say
from smsgate.admin.store_session import (
    ConfigOption,
    JsonOption,
    LoginArgument,
    reports_refusals,
    run,
)
from smsgate.store.roles import AccountAdmin

app = typer.Typer(no_args_is_help=True, help="Sender names an account may use.")

NameArgument = Annotated[str, typer.Argument(help="Alphanumeric (<= 11) or numeric (<= 15)")]


@app.command()
@reports_refusals
def add(login: LoginArgument, name: NameArgument, config: ConfigOption = None) -> None:
    """Allow the account to send from NAME."""
    checked_sender_name(name)

    async def work(store: AccountAdmin) -> bool:
        account_id = (await credentials_of(store, login)).account.id
        had = name in await store.originators(account_id)
        await store.add_originator(account_id, name)
        return had

    had = run(config, work)
    say(f"{login!r} {'already had' if had else 'may now send from'} sender name {name!r}")


@app.command()
@reports_refusals
def remove(login: LoginArgument, name: NameArgument, config: ConfigOption = None) -> None:
    """Stop the account from sending from NAME."""

    async def work(store: AccountAdmin) -> None:
        account_id = (await credentials_of(store, login)).account.id
        if not await store.remove_originator(account_id, name):
            raise Refused(f"{login!r} has no sender name {name!r}")

    run(config, work)
    say(f"{login!r} may no longer send from sender name {name!r}")


@app.command("list")
@reports_refusals
def list_(login: LoginArgument, config: ConfigOption = None, json: JsonOption = False) -> None:
    """The sender names of an account."""

    async def work(store: AccountAdmin) -> list[str]:
        return await store.originators((await credentials_of(store, login)).account.id)

    names = run(config, work)
    if json:
        print_json(names)
        return
    print_table(f"sender names of {login}", ["name"], [[n] for n in names])
