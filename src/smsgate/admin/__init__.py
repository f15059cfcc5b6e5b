"""`smsgate admin`: the operator's command line over the store — accounts, credentials, money,
sender names, tariffs, the connectors' bind state, inbound numbers, unroutable inbound SMS,
suppression lists and webhook endpoints.

Each command opens the configured store for its own work and closes it; no command keeps state
or talks to a running node except `connectors list`, which reads its /health. Each says on
stderr which database it uses and refuses to create one without `--create`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from smsgate.admin import (
    accounts,
    backup,
    balance,
    callbacks,
    connectors,
    inbound,
    numbers,
    passwords,
    senders,
    suppressions,
    tariffs,
    tokens,
    webhooks,
)
from smsgate.admin.store_session import Options

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)


@app.callback()
def _group(
    create: Annotated[
        bool,
        typer.Option(
            "--create", help="Create the SQLite database if it does not exist (refused otherwise)"
        ),
    ] = False,
) -> None:
    Options.create = create


app.add_typer(accounts.app, name="accounts")
app.add_typer(tokens.app, name="tokens")
app.add_typer(passwords.app, name="passwords")
app.add_typer(balance.app, name="balance")
app.add_typer(senders.app, name="senders")
app.add_typer(tariffs.app, name="tariffs")
app.add_typer(connectors.app, name="connectors")
app.add_typer(numbers.app, name="numbers")
app.add_typer(suppressions.app, name="suppressions")
app.add_typer(inbound.app, name="inbound")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(callbacks.app, name="callbacks")
app.command("backup")(backup.backup)

__all__ = ["app"]
