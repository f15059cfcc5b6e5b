"""`smsgate admin suppressions add | remove | list`: the numbers an account must not send to.
Recipients put themselves on it by replying STOP (and off with START); a send to a number on
it is refused for that recipient with "Recipient opted out" on every door.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
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
    settings_from,
)
from smsgate.domain.phone import PhoneNormalizer
from smsgate.store.interface import Store
from smsgate.store.records import Suppression

app = typer.Typer(no_args_is_help=True, help="Numbers an account must not send to (opt-outs).")

PhoneArgument = Annotated[str, typer.Argument(help="The recipient's number")]


def _phone(config: ConfigOption, phone: str) -> str:
    digits = PhoneNormalizer(settings_from(config).default_region).digits(phone)
    if digits is None:
        raise Refused(f"{phone!r} is not a phone number")
    return digits


@app.command()
@reports_refusals
def add(login: LoginArgument, phone: PhoneArgument, config: ConfigOption = None) -> None:
    """Refuse the account's sends to PHONE."""
    digits = _phone(config, phone)

    async def work(store: Store) -> bool:
        account_id = (await credentials_of(store, login)).account.id
        return await store.suppress(account_id, digits, "admin", time.time())

    added = run(config, work)
    say(f"{login!r} {'may no longer' if added else 'already could not'} send to {digits}")


@app.command()
@reports_refusals
def remove(login: LoginArgument, phone: PhoneArgument, config: ConfigOption = None) -> None:
    """Let the account send to PHONE again."""
    digits = _phone(config, phone)

    async def work(store: Store) -> None:
        account_id = (await credentials_of(store, login)).account.id
        if not await store.unsuppress(account_id, digits):
            raise Refused(f"{digits} is not on the suppression list of {login!r}")

    run(config, work)
    say(f"{login!r} may send to {digits} again")


@app.command("list")
@reports_refusals
def list_(login: LoginArgument, config: ConfigOption = None, json: JsonOption = False) -> None:
    """The numbers the account must not send to, and who put them there."""

    async def work(store: Store) -> list[Suppression]:
        return await store.suppressions((await credentials_of(store, login)).account.id)

    entries = run(config, work)
    if json:
        print_json([{"phone": e.phone, "by": e.source, "at": e.created_at} for e in entries])
        return
    print_table(
        f"suppression list of {login}",
        ["phone", "by", "since"],
        [[e.phone, e.source, _when(e.created_at)] for e in entries],
    )


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")
