"""What every `sms` command shares: the `Connector` that builds clients (tests replace it through
`obj=`), the common options, the two consoles, JSON output, and the one place where an error
becomes a message and its exit code — never a traceback.

Must not hold a command: those are in `cli.py` (SMS Club API) and `cli_native.py` (native API).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, NoReturn

import httpx
import typer
from rich.console import Console

from .async_client import AsyncClient
from .csv_rows import CsvError
from .errors import SmsGateError
from .exit_codes import ExitCode, exit_code_for
from .native_client import NativeClient
from .sync_client import Client

DEFAULT_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Options:
    url: str
    token: str
    json: bool
    timeout: float
    retries: int


@dataclass
class Connector:
    """Builds the clients the commands use; tests pass their own through `obj=`."""

    transport: httpx.BaseTransport | None = None
    async_transport: httpx.AsyncBaseTransport | None = None
    sleep: Callable[[float], object] = time.sleep
    async_sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic

    def client(self, options: Options) -> Client:
        return Client(
            options.url,
            options.token,
            timeout=options.timeout,
            retries=options.retries,
            transport=self.transport,
            sleep=self.sleep,
        )

    def async_client(self, options: Options) -> AsyncClient:
        return AsyncClient(
            options.url,
            options.token,
            timeout=options.timeout,
            retries=options.retries,
            transport=self.async_transport,
            sleep=self.async_sleep,
        )

    def native_client(self, options: Options) -> NativeClient:
        return NativeClient(
            options.url,
            options.token,
            timeout=options.timeout,
            retries=options.retries,
            transport=self.transport,
            sleep=self.sleep,
        )


Url = Annotated[str, typer.Option("--url", envvar="SMSGATE_URL", help="Base URL of the API.")]
Token = Annotated[
    str | None,
    typer.Option("--token", envvar="SMSGATE_TOKEN", help="API token.", show_default=False),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Timeout = Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per request.")]
Retries = Annotated[int, typer.Option("--retries", min=0, help="Retries on 429, 5xx, network.")]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def options(url: str, token: str | None, json_out: bool, timeout: float, retries: int) -> Options:
    if not token:
        fail("no API token: pass --token or set SMSGATE_TOKEN", ExitCode.USAGE, json_out)
    return Options(url, token, json_out, timeout, retries)


def connector(ctx: typer.Context) -> Connector:
    return ctx.obj if isinstance(ctx.obj, Connector) else Connector()


def fail(message: str, code: ExitCode, json_out: bool, **extra: object) -> NoReturn:
    if json_out:
        err.print(json.dumps({"error": code.name.lower(), "message": message, **extra}))
    else:
        err.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(int(code))


@contextmanager
def reporting(json_out: bool) -> Iterator[None]:
    """Every failure the user can cause becomes a message and its exit code."""
    try:
        yield
    except SmsGateError as error:
        detail: dict[str, object] = {"status_code": error.status_code}
        message = error.message
        if error.field is not None:
            detail["field"] = error.field
            if error.field not in message:
                message = f"{error.field}: {message}"
        if error.status_code is not None and str(error.status_code) not in message:
            message = f"{message} (HTTP {error.status_code})"
        fail(message, exit_code_for(error), json_out, **detail)
    except CsvError as error:
        fail(str(error), ExitCode.USAGE, json_out)
    except OSError as error:
        fail(f"{error.filename or 'file'}: {error.strerror or error}", ExitCode.INTERNAL, json_out)
    except KeyboardInterrupt:
        fail("interrupted", ExitCode.INTERRUPTED, json_out)


def print_json(value: object) -> None:
    out.print_json(json.dumps(plain(value), ensure_ascii=False))


def plain(value: object) -> object:
    """SDK values as JSON can say them: dataclasses as objects, money as decimal strings (never
    floats), times in ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def phones_of(to: list[str] | None) -> list[str]:
    """--to given repeatedly, or comma-separated, or both."""
    return [p.strip() for item in to or [] for p in item.split(",") if p.strip()]
