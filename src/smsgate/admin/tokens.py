"""`smsgate admin tokens issue | rotate`: an account's API token for the JSON API. A token is
printed once and stored only as its hash; a new one replaces the old at once.
"""

from __future__ import annotations

import typer

from smsgate.admin.errors import Refused
from smsgate.admin.lookup import summary_of
from smsgate.admin.report import say
from smsgate.admin.store_session import ConfigOption, LoginArgument, reports_refusals, run
from smsgate.gateway.credentials import hash_token, new_token
from smsgate.store.roles import AccountAdmin

app = typer.Typer(no_args_is_help=True, help="API tokens: issue a first one, rotate it.")


def _replace_token(login: str, *, rotating: bool, config: ConfigOption) -> None:
    token = new_token()

    async def work(store: AccountAdmin) -> None:
        summary = await summary_of(store, login)
        # Issuing over a live token, or rotating none, is most likely the wrong account.
        if summary.has_token and not rotating:
            raise Refused(f"{login!r} already has a token; `tokens rotate {login}` replaces it")
        if not summary.has_token and rotating:
            raise Refused(f"{login!r} has no token to rotate; `tokens issue {login}` issues one")
        await store.set_token_hash(summary.account.id, hash_token(token))

    run(config, work)
    if rotating:
        say(f"the old token of {login!r} no longer works")
    say(f"API token (shown once, store it now): {token}")


@app.command()
@reports_refusals
def issue(login: LoginArgument, config: ConfigOption = None) -> None:
    """Issue a token to an account that has none."""
    _replace_token(login, rotating=False, config=config)


@app.command()
@reports_refusals
def rotate(login: LoginArgument, config: ConfigOption = None) -> None:
    """Replace an account's token; the old one stops working."""
    _replace_token(login, rotating=True, config=config)
