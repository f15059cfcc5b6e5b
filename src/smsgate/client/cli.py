"""`sms`: send, query statuses, balance and sender names from the shell, over the SDK.

Translation only: options in, SDK calls, tables or `--json` out, one exit code per error kind
and never a traceback. Clients are built by a `Connector`, which tests replace (`obj=`) to inject
a mock transport and a sleep that does not sleep.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NoReturn

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .async_client import AsyncClient
from .bulk_send import BulkOutcome, Pacer, send_rows
from .csv_rows import CsvError, Rejected, Row, read_recipients, write_accepted, write_rejected
from .errors import SmsGateError
from .exit_codes import ExitCode, describe, exit_code_for
from .models import Status, StatusReport
from .sync_client import Client

DEFAULT_URL = "http://127.0.0.1:8080"


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


@dataclass(frozen=True)
class Options:
    url: str
    token: str
    json: bool
    timeout: float
    retries: int


app = typer.Typer(
    name="sms",
    help="Send SMS and query them over the SMS Club-compatible JSON API (smsgate or hosted).",
    epilog="Exit codes:\n\n" + describe(),
    rich_markup_mode="markdown",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

Url = Annotated[str, typer.Option("--url", envvar="SMSGATE_URL", help="Base URL of the JSON API.")]
Token = Annotated[
    str | None,
    typer.Option("--token", envvar="SMSGATE_TOKEN", help="API token.", show_default=False),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Timeout = Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per request.")]
Retries = Annotated[int, typer.Option("--retries", min=0, help="Retries on 429, 5xx, network.")]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _options(url: str, token: str | None, json_out: bool, timeout: float, retries: int) -> Options:
    if not token:
        _fail("no API token: pass --token or set SMSGATE_TOKEN", ExitCode.USAGE, json_out)
    return Options(url, token, json_out, timeout, retries)


def _connector(ctx: typer.Context) -> Connector:
    return ctx.obj if isinstance(ctx.obj, Connector) else Connector()


def _fail(message: str, code: ExitCode, json_out: bool, **extra: object) -> NoReturn:
    if json_out:
        err.print(json.dumps({"error": code.name.lower(), "message": message, **extra}))
    else:
        err.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(int(code))


@contextmanager
def _reporting(json_out: bool) -> Iterator[None]:
    """Every failure the user can cause becomes a message and its exit code."""
    try:
        yield
    except SmsGateError as error:
        detail: dict[str, object] = {"status_code": error.status_code}
        message = error.message
        if error.status_code is not None and str(error.status_code) not in message:
            message = f"{message} (HTTP {error.status_code})"
        _fail(message, exit_code_for(error), json_out, **detail)
    except CsvError as error:
        _fail(str(error), ExitCode.USAGE, json_out)
    except OSError as error:
        _fail(f"{error.filename or 'file'}: {error.strerror or error}", ExitCode.INTERNAL, json_out)
    except KeyboardInterrupt:
        _fail("interrupted", ExitCode.INTERRUPTED, json_out)


def _print_json(value: object) -> None:
    out.print_json(json.dumps(value, ensure_ascii=False))


# -- send ------------------------------------------------------------------------------------


@app.command()
def send(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="Message text.", show_default=False)] = None,
    to: Annotated[
        list[str] | None,
        typer.Option("--to", help="Recipient (repeat, or comma-separate).", show_default=False),
    ] = None,
    sender: Annotated[str, typer.Option("--from", help="Sender name (an active originator).")] = "",
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help="CSV of recipients: columns phone,message or just phone (with --text).",
            show_default=False,
        ),
    ] = None,
    text_option: Annotated[
        str | None,
        typer.Option("--text", help="Text for rows without a message.", show_default=False),
    ] = None,
    rejected_out: Annotated[
        Path | None,
        typer.Option("--rejected-out", help="Write rejected rows here (CSV).", show_default=False),
    ] = None,
    accepted_out: Annotated[
        Path | None,
        typer.Option("--accepted-out", help="Write accepted id,phone (CSV).", show_default=False),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Requests in flight (--csv).")
    ] = 4,
    rate: Annotated[
        float,
        typer.Option("--rate", min=0, help="Requests per second at most (--csv; 0: no limit)."),
    ] = 9.0,
    lifetime: Annotated[
        float | None,
        typer.Option("--lifetime", min=1, help="Minutes to keep trying.", show_default=False),
    ] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    json_out: JsonOut = False,
    timeout: Timeout = 10.0,
    retries: Retries = 3,
) -> None:
    """Send one text to --to recipients, or a whole --csv file in parallel batches of 100."""
    options = _options(url, token, json_out, timeout, retries)
    if not sender:
        _fail("no sender name: pass --from", ExitCode.USAGE, json_out)
    if text is not None and text_option is not None:
        _fail("give the text once: as TEXT or with --text", ExitCode.USAGE, json_out)
    message = text if text is not None else text_option
    phones = [p.strip() for item in to or [] for p in item.split(",") if p.strip()]
    with _reporting(json_out):
        if csv_file is not None:
            if phones:
                _fail("use either --to or --csv, not both", ExitCode.USAGE, json_out)
            recipients = read_recipients(csv_file, message)
            outcome = _send_csv(
                ctx,
                options,
                recipients.rows,
                recipients.one_text,
                sender,
                concurrency,
                rate,
                lifetime,
            )
            outcome.rejected[:0] = recipients.rejected
        else:
            if not phones:
                _fail("no recipients: pass --to PHONE or --csv FILE", ExitCode.USAGE, json_out)
            if not message:
                _fail("no text: pass TEXT or --text", ExitCode.USAGE, json_out)
            outcome = _send_list(ctx, options, phones, message, sender, lifetime)
        if rejected_out is not None:
            write_rejected(rejected_out, outcome.rejected)
        if accepted_out is not None:
            write_accepted(accepted_out, ((i, row.phone) for i, row in outcome.accepted.items()))
    _report_send(outcome, options, rejected_out)


def _send_list(
    ctx: typer.Context,
    options: Options,
    phones: list[str],
    text: str,
    sender: str,
    lifetime: float | None,
) -> BulkOutcome:
    with _connector(ctx).client(options) as client:
        result = client.send(phones, text, sender, lifetime=lifetime)
    outcome = BulkOutcome()
    for message_id, phone in result.accepted.items():
        outcome.accepted[message_id] = Row(0, phone, text)
    for line, phone in enumerate(phones, 1):
        if phone in result.rejected:
            outcome.rejected.append(Rejected(Row(line, phone, text), result.rejected[phone]))
    return outcome


def _send_csv(
    ctx: typer.Context,
    options: Options,
    rows: list[Row],
    one_text: bool,
    sender: str,
    concurrency: int,
    rate: float,
    lifetime: float | None,
) -> BulkOutcome:
    connector = _connector(ctx)

    async def run(progress: Progress) -> BulkOutcome:
        task = progress.add_task("sending", total=len(rows))
        async with connector.async_client(options) as client:
            return await send_rows(
                client,
                rows,
                sender,
                one_text=one_text,
                concurrency=concurrency,
                pacer=Pacer(rate, sleep=connector.async_sleep, clock=connector.clock),
                lifetime=lifetime,
                on_batch=lambda count: progress.advance(task, count),
            )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=options.json,
    )
    with progress:
        return asyncio.run(run(progress))


def _report_send(outcome: BulkOutcome, options: Options, rejected_out: Path | None) -> None:
    rejected = sorted(outcome.rejected, key=lambda r: r.row.line)
    if options.json:
        _print_json(
            {
                "accepted": len(outcome.accepted),
                "rejected": len(rejected),
                "ids": {message_id: row.phone for message_id, row in outcome.accepted.items()}
                if len(outcome.accepted) <= 1000
                else None,
                "rejections": [
                    {"line": r.row.line, "phone": r.row.phone, "reason": r.reason} for r in rejected
                ],
            }
        )
    else:
        if len(outcome.accepted) <= 20:
            for message_id, row in outcome.accepted.items():
                out.print(f"{message_id}  {row.phone}")
        for item in rejected[:20]:
            err.print(
                f"rejected {item.row.phone or '(line ' + str(item.row.line) + ')'}: {item.reason}"
            )
        if len(rejected) > 20:
            where = f", all in {rejected_out}" if rejected_out else " (use --rejected-out)"
            err.print(f"… and {len(rejected) - 20} more rejected{where}")
        err.print(f"accepted {len(outcome.accepted)}, rejected {len(rejected)}")
    if outcome.fatal is not None:
        with _reporting(options.json):
            raise outcome.fatal
    if rejected:
        raise typer.Exit(int(ExitCode.REJECTED))


# -- status, balance, senders ----------------------------------------------------------------


@app.command()
def status(
    ctx: typer.Context,
    ids: Annotated[list[str], typer.Argument(help="Message ids.", show_default=False)],
    watch: Annotated[bool, typer.Option("--watch", help="Poll until every id is final.")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between polls (--watch).")
    ] = 5.0,
    url: Url = DEFAULT_URL,
    token: Token = None,
    json_out: JsonOut = False,
    timeout: Timeout = 10.0,
    retries: Retries = 3,
) -> None:
    """Show the status of messages; with --watch, poll until none is ENROUTE."""
    options = _options(url, token, json_out, timeout, retries)
    connector = _connector(ctx)
    with _reporting(json_out), connector.client(options) as client:
        report = client.status(ids)
        # Only ENROUTE can still change: later polls ask about those alone.
        while watch and not report.all_final:
            if not json_out:
                err.print(_counts(report))
            connector.sleep(interval)
            pending = [i for i, s in report.items() if not s.is_final]
            report = _refreshed(report, client.status(pending))
    _report_status(report, options)


def _refreshed(report: StatusReport, update: StatusReport) -> StatusReport:
    merged = StatusReport(report, report.unknown)
    merged.update(update)
    merged.unknown.update(update.unknown)
    for message_id in update.unknown:
        merged.pop(message_id, None)
    return merged


def _counts(report: StatusReport) -> str:
    counts = {s: 0 for s in Status}
    for value in report.values():
        counts[value] += 1
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    if report.unknown:
        parts.append(f"{len(report.unknown)} unknown")
    return ", ".join(parts)


def _report_status(report: StatusReport, options: Options) -> None:
    if options.json:
        _print_json({"statuses": {k: str(v) for k, v in report.items()}, "unknown": report.unknown})
        return
    table = Table("id", "status", box=None, pad_edge=False)
    for message_id, value in report.items():
        table.add_row(message_id, str(value))
    for message_id, reason in report.unknown.items():
        table.add_row(message_id, f"unknown: {reason}")
    out.print(table)


@app.command()
def balance(
    ctx: typer.Context,
    url: Url = DEFAULT_URL,
    token: Token = None,
    json_out: JsonOut = False,
    timeout: Timeout = 10.0,
    retries: Retries = 3,
) -> None:
    """Show the account's balance."""
    options = _options(url, token, json_out, timeout, retries)
    with _reporting(json_out), _connector(ctx).client(options) as client:
        result = client.balance()
    if json_out:
        _print_json({"money": str(result.money), "currency": result.currency})
    else:
        out.print(f"{result.money} {result.currency}".strip())


@app.command()
def senders(
    ctx: typer.Context,
    url: Url = DEFAULT_URL,
    token: Token = None,
    json_out: JsonOut = False,
    timeout: Timeout = 10.0,
    retries: Retries = 3,
) -> None:
    """List the account's active sender names."""
    options = _options(url, token, json_out, timeout, retries)
    with _reporting(json_out), _connector(ctx).client(options) as client:
        names = client.senders()
    if json_out:
        _print_json(names)
    else:
        for name in names:
            out.print(name)


def main() -> None:
    try:
        app()
    except Exception as exc:  # the promise is "never a traceback", even for our own bugs
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}", markup=True)
        sys.exit(int(ExitCode.INTERNAL))
