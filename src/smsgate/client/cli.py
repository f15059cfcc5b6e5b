"""`sms`: send, query statuses, balance and sender names from the shell, over the SDK; and over
smsgate's native API: quotes, scheduled sends, message lists and details, cancelling, usage.

Translation only: options in, SDK calls, tables or `--json` out, one exit code per error kind
and never a traceback. Clients are built by a `Connector` (cli_common.py), which tests replace
(`obj=`) to inject a mock transport and a sleep that does not sleep.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import cli_native
from .bulk_send import BulkOutcome, Pacer, send_rows
from .cli_common import (
    DEFAULT_URL,
    Connector,
    JsonOut,
    Options,
    Retries,
    Timeout,
    Token,
    Url,
    connector,
    err,
    fail,
    options,
    out,
    phones_of,
    print_json,
    reporting,
)
from .csv_rows import Rejected, Row, read_recipients, write_accepted, write_rejected
from .exit_codes import ExitCode, describe
from .models import Status, StatusReport
from .send_time import SendTimeError, send_time

__all__ = ["Connector", "app", "main"]

app = typer.Typer(
    name="sms",
    help="Send SMS and query them over the SMS Club-compatible JSON API (smsgate or hosted), "
    "and over smsgate's native API (quote, send --at, messages, cancel, usage).",
    epilog="Exit codes:\n\n" + describe(),
    rich_markup_mode="markdown",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
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
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Send later (native API; with --to): an ISO time (2026-12-24T09:00, local "
            "unless it has an offset) or from now: +10m, +2h, +1d. `sms cancel ID` before then.",
            show_default=False,
        ),
    ] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    json_out: JsonOut = False,
    timeout: Timeout = 10.0,
    retries: Retries = 3,
) -> None:
    """Send one text to --to recipients, or a whole --csv file in parallel batches of 100;
    --at schedules a --to send for later (native API)."""
    opts = options(url, token, json_out, timeout, retries)
    if not sender:
        fail("no sender name: pass --from", ExitCode.USAGE, json_out)
    if text is not None and text_option is not None:
        fail("give the text once: as TEXT or with --text", ExitCode.USAGE, json_out)
    message = text if text is not None else text_option
    phones = phones_of(to)
    when = None
    if at is not None:
        if csv_file is not None:
            fail("--at sends to --to recipients, not a --csv file", ExitCode.USAGE, json_out)
        try:
            when = send_time(at, datetime.now(UTC).astimezone())
        except SendTimeError as error:
            fail(str(error), ExitCode.USAGE, json_out)
    scheduled = None
    with reporting(json_out):
        if csv_file is not None:
            if phones:
                fail("use either --to or --csv, not both", ExitCode.USAGE, json_out)
            recipients = read_recipients(csv_file, message)
            outcome = _send_csv(
                ctx,
                opts,
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
                fail("no recipients: pass --to PHONE or --csv FILE", ExitCode.USAGE, json_out)
            if not message:
                fail("no text: pass TEXT or --text", ExitCode.USAGE, json_out)
            if when is not None:
                outcome, scheduled = cli_native.send_scheduled(
                    ctx, opts, phones, message, sender, when, lifetime
                )
            else:
                outcome = _send_list(ctx, opts, phones, message, sender, lifetime)
        if rejected_out is not None:
            write_rejected(rejected_out, outcome.rejected)
        if accepted_out is not None:
            write_accepted(accepted_out, ((i, row.phone) for i, row in outcome.accepted.items()))
    _report_send(outcome, opts, rejected_out, scheduled)


def _send_list(
    ctx: typer.Context,
    opts: Options,
    phones: list[str],
    text: str,
    sender: str,
    lifetime: float | None,
) -> BulkOutcome:
    with connector(ctx).client(opts) as client:
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
    opts: Options,
    rows: list[Row],
    one_text: bool,
    sender: str,
    concurrency: int,
    rate: float,
    lifetime: float | None,
) -> BulkOutcome:
    conn = connector(ctx)

    async def run(progress: Progress) -> BulkOutcome:
        task = progress.add_task("sending", total=len(rows))
        async with conn.async_client(opts) as client:
            return await send_rows(
                client,
                rows,
                sender,
                one_text=one_text,
                concurrency=concurrency,
                pacer=Pacer(rate, sleep=conn.async_sleep, clock=conn.clock),
                lifetime=lifetime,
                on_batch=lambda count: progress.advance(task, count),
            )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=opts.json,
    )
    with progress:
        return asyncio.run(run(progress))


def _report_send(
    outcome: BulkOutcome,
    opts: Options,
    rejected_out: Path | None,
    scheduled: datetime | None = None,
) -> None:
    rejected = sorted(outcome.rejected, key=lambda r: r.row.line)
    if opts.json:
        print_json(
            {
                **({} if scheduled is None else {"send_at": scheduled}),
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
        if scheduled is not None:
            err.print(f"scheduled for {scheduled.astimezone():%Y-%m-%d %H:%M:%S %Z}")
    if outcome.fatal is not None:
        with reporting(opts.json):
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
    opts = options(url, token, json_out, timeout, retries)
    conn = connector(ctx)
    with reporting(json_out), conn.client(opts) as client:
        report = client.status(ids)
        # Only ENROUTE can still change: later polls ask about those alone.
        while watch and not report.all_final:
            if not json_out:
                err.print(_counts(report))
            conn.sleep(interval)
            pending = [i for i, s in report.items() if not s.is_final]
            report = _refreshed(report, client.status(pending))
    _report_status(report, opts)


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


def _report_status(report: StatusReport, opts: Options) -> None:
    if opts.json:
        print_json({"statuses": {k: str(v) for k, v in report.items()}, "unknown": report.unknown})
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
    opts = options(url, token, json_out, timeout, retries)
    with reporting(json_out), connector(ctx).client(opts) as client:
        result = client.balance()
    if json_out:
        print_json({"money": str(result.money), "currency": result.currency})
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
    opts = options(url, token, json_out, timeout, retries)
    with reporting(json_out), connector(ctx).client(opts) as client:
        names = client.senders()
    if json_out:
        print_json(names)
    else:
        for name in names:
            out.print(name)


# The native API's commands, after the SMS Club ones in --help.
app.command()(cli_native.quote)
app.command()(cli_native.cancel)
app.command()(cli_native.usage)
app.add_typer(cli_native.messages_app, name="messages")


def main() -> None:
    try:
        app()
    except Exception as exc:  # the promise is "never a traceback", even for our own bugs
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}", markup=True)
        sys.exit(int(ExitCode.INTERNAL))
