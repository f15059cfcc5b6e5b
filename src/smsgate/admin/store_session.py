"""Running one admin command: settings from --config and the SMSGATE_* environment, a SqlStore
opened for the command's work and closed after it, and every expected failure turned into one
line on stderr and a non-zero exit. Holds no command's logic.

It says on stderr which database it opens, and never creates a SQLite file unless asked
(`smsgate admin --create …`): run from the wrong directory, the default ./var/smsgate.db would
otherwise be a new, empty database that looks like a gateway with no accounts.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, NoReturn, ParamSpec, TypeVar

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from smsgate.admin.errors import DatabaseUnavailable, Refused
from smsgate.config import ConfigError, Settings, load_settings
from smsgate.store.interface import Store, StoreError
from smsgate.store.sql_store import SqlStore

T = TypeVar("T")
P = ParamSpec("P")

EXIT_REFUSED = 1
EXIT_CONFIG = 2  # the same code `smsgate serve` uses for a bad configuration
EXIT_DATABASE = 3

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="TOML configuration file (SMSGATE_* variables also apply)"),
]
LoginArgument = Annotated[str, typer.Argument(help="The account's login")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def reports_refusals(command: Callable[P, T]) -> Callable[P, T]:
    """Wrap a command so that input it refuses before reaching the store (a bad amount, a bad
    prefix) ends as one line on stderr too. typer reads the wrapped signature."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except Refused as exc:
            fail(str(exc))

    return wrapper


def settings_from(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        # pydantic's report spans lines (count, field, problem, a link): keep it on one.
        lines = [line.strip() for line in str(exc).splitlines()]
        fail(": ".join(x for x in lines if x and not x.startswith("For further")), EXIT_CONFIG)


def run(config: Path | None, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open the configured store, await `work(store)` in a fresh event loop, close the store."""
    settings = settings_from(config)
    try:
        return asyncio.run(_with_store(settings, work))
    except Refused as exc:
        fail(str(exc))
    except StoreError as exc:
        # The store's own refusals (duplicate login, balance below zero) are the operator's.
        fail(str(exc))
    except DatabaseUnavailable as exc:
        fail(str(exc), EXIT_DATABASE)


class Options:
    """What the `smsgate admin` group's own options asked for (set by its callback)."""

    create = False


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names, made absolute; None for other databases and :memory:."""
    try:
        parsed = make_url(url)
    except SQLAlchemyError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def announce(url: str) -> None:
    """Say which database the command works on: the first thing to check when a login that
    exists "is not found"."""
    path = sqlite_file(url)
    typer.echo(f"database: {path if path is not None else _shown(url)}", err=True)


async def _with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    url = settings.database.url
    path = sqlite_file(url)
    if path is not None and not path.exists() and not Options.create:
        raise DatabaseUnavailable(
            f"the database {path} does not exist; point at the node's database with --config "
            "or SMSGATE_DATABASE__URL, or create it with `smsgate admin --create …`"
        )
    try:
        store = SqlStore(url, synchronous=settings.database.synchronous)
        await store.open()
    except (StoreError, SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailable(
            f"cannot open the database {_shown(url)}: {_one_line(exc)}"
        ) from None
    announce(url)  # once open: a failure to open names the database in its own message
    try:
        return await work(store)
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailable(f"database {_shown(url)} failed: {_one_line(exc)}") from None
    finally:
        await store.close()


def _shown(url: str) -> str:
    """The URL without its password: error messages end up in logs and terminals."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "(unparsable URL)"


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
