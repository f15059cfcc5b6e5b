"""`smsgate admin passwords set | set-smpp`: the HTTP/XML gateway password and the SMPP bind
password of an account, given or generated. Stored only as salted hashes; a generated one is
printed once.
"""

from __future__ import annotations

from typing import Annotated

import typer

from smsgate.admin.errors import Refused
from smsgate.admin.inputs import SMPP_PASSWORD_MAX, checked_password, checked_smpp_password
from smsgate.admin.lookup import credentials_of
from smsgate.admin.report import say
from smsgate.admin.store_session import ConfigOption, LoginArgument, reports_refusals, run
from smsgate.gateway.credentials import hash_password, new_password
from smsgate.store.roles import AccountAdmin

app = typer.Typer(no_args_is_help=True, help="Passwords of the HTTP/XML gateway and of SMPP.")

HTTP_GENERATED_LENGTH = 12

PasswordOption = Annotated[
    str | None, typer.Option("--password", help="The password to set (it lands in shell history)")
]
GenerateOption = Annotated[bool, typer.Option("--generate", help="Generate a random password")]


def _chosen(password: str | None, generate: bool, length: int) -> tuple[str, bool]:
    if (password is None) == (not generate):
        raise Refused("give exactly one of --password P or --generate")
    if password is None:
        return new_password(length), True
    return password, False


def _set(
    login: str,
    password: str,
    generated: bool,
    config: ConfigOption,
    *,
    smpp: bool,
) -> None:
    hashed = hash_password(password)
    kind = "SMPP" if smpp else "HTTP/XML"

    async def work(store: AccountAdmin) -> None:
        account_id = (await credentials_of(store, login)).account.id
        if smpp:
            await store.set_smpp_password_hash(account_id, hashed)
        else:
            await store.set_password_hash(account_id, hashed)

    run(config, work)
    say(f"{kind} password of {login!r} set")
    if generated:
        say(f"{kind} password (shown once, store it now): {password}")


@app.command("set")
@reports_refusals
def set_(
    login: LoginArgument,
    password: PasswordOption = None,
    generate: GenerateOption = False,
    config: ConfigOption = None,
) -> None:
    """Set the password of the HTTP and XML gateways."""
    chosen, generated = _chosen(password, generate, HTTP_GENERATED_LENGTH)
    checked_password(chosen)
    _set(login, chosen, generated, config, smpp=False)


@app.command("set-smpp")
@reports_refusals
def set_smpp(
    login: LoginArgument,
    password: PasswordOption = None,
    generate: GenerateOption = False,
    config: ConfigOption = None,
) -> None:
    """Set the SMPP bind password (at most 8 characters)."""
    chosen, generated = _chosen(password, generate, SMPP_PASSWORD_MAX)
    checked_smpp_password(chosen)
    _set(login, chosen, generated, config, smpp=True)
