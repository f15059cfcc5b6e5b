"""`smsgate admin numbers add | remove | list`: the numbers (long numbers, short codes) whose
inbound SMS an account receives; with --keyword, only the messages on a shared number whose
first word it is. A running node sees a change within a few seconds (its routes' cache).
"""

from __future__ import annotations

from typing import Annotated

import typer

from smsgate.admin.errors import Refused
from smsgate.admin.lookup import credentials_of
from smsgate.admin.report import print_json, print_table, say
from smsgate.admin.store_session import (
    ConfigOption,
    JsonOption,
    LoginArgument,
    reports_refusals,
    run,
)
from smsgate.domain.inbound_routing import number_key
from smsgate.domain.keywords import keyword as folded_keyword
from smsgate.store.interface import Store
from smsgate.store.records import NumberRoute

app = typer.Typer(no_args_is_help=True, help="Numbers whose inbound SMS an account receives.")

NumberArgument = Annotated[str, typer.Argument(help="Long number or short code, e.g. 7000")]
KeywordOption = Annotated[
    str | None,
    typer.Option("--keyword", help="Only messages whose first word this is (shared numbers)"),
]


def _checked(number: str, keyword: str | None) -> tuple[str, str]:
    try:
        digits = number_key(number)
        word = "" if keyword is None else folded_keyword(keyword)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    return digits, word


def _shown(number: str, keyword: str) -> str:
    return f"number {number}" + (f" keyword {keyword!r}" if keyword else "")


@app.command()
@reports_refusals
def add(
    login: LoginArgument,
    number: NumberArgument,
    keyword: KeywordOption = None,
    config: ConfigOption = None,
) -> None:
    """Route inbound SMS to NUMBER (starting with --keyword) to the account."""
    digits, word = _checked(number, keyword)

    async def work(store: Store) -> None:
        account_id = (await credentials_of(store, login)).account.id
        await store.add_number(NumberRoute(digits, account_id, word))

    run(config, work)
    say(f"{login!r} receives inbound SMS to {_shown(digits, word)}")


@app.command()
@reports_refusals
def remove(
    number: NumberArgument, keyword: KeywordOption = None, config: ConfigOption = None
) -> None:
    """Stop routing NUMBER (or its --keyword) to any account."""
    digits, word = _checked(number, keyword)

    async def work(store: Store) -> None:
        if not await store.remove_number(digits, word):
            raise Refused(f"{_shown(digits, word)} belongs to no account")

    run(config, work)
    say(f"{_shown(digits, word)} no longer routes to any account")


@app.command("list")
@reports_refusals
def list_(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Every number, its keyword and the account it routes to."""

    async def work(store: Store) -> list[tuple[str, str, str]]:
        logins = {s.account.id: s.account.login for s in await store.list_accounts()}
        return [
            (r.number, r.keyword, logins.get(r.account_id, str(r.account_id)))
            for r in await store.number_routes()
        ]

    rows = run(config, work)
    if json:
        print_json([{"number": n, "keyword": k or None, "login": a} for n, k, a in rows])
        return
    print_table("inbound numbers", ["number", "keyword", "login"], [[n, k, a] for n, k, a in rows])
