"""The `sms` commands over smsgate's native API: `quote`, `messages list|show [--watch]`,
`cancel`, `usage`, and the scheduled path of `send --at`.

Translation only, like cli.py: options in, `NativeClient` calls, tables or `--json` out, errors
through `cli_common.reporting`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from .account_models import UsageRow
from .bulk_send import BulkOutcome
from .cli_common import (
    DEFAULT_URL,
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
from .csv_rows import Rejected, Row
from .errors import RecipientsRejectedError
from .exit_codes import ExitCode
from .models import Status
from .native_models import Message, MessageSummary, Rejection

messages_app = typer.Typer(
    help="List your messages, or show one with its parts (native API).", no_args_is_help=True
)


class Group(StrEnum):
    day = "day"
    status = "status"
    country = "country"


def _local(when: datetime | None) -> str:
    return "" if when is None else when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


# -- send --at -------------------------------------------------------------------------------


def send_scheduled(
    ctx: typer.Context,
    opts: Options,
    phones: list[str],
    text: str,
    sender: str,
    when: datetime,
    lifetime: float | None,
) -> tuple[BulkOutcome, datetime | None]:
    """`sms send --at`: one native send with `send_at`, as the outcome `send` reports."""
    valid_for = None if lifetime is None else lifetime * 60
    outcome = BulkOutcome()
    with connector(ctx).native_client(opts) as client:
        try:
            sent = client.send(phones, text, sender, send_at=when, valid_for=valid_for)
        except RecipientsRejectedError as refused:
            rejections = [r for r in refused.rejected if isinstance(r, Rejection)]
            outcome.rejected.extend(_rejected(phones, text, rejections))
            return outcome, None
    for message in sent.messages:
        outcome.accepted[message.id] = Row(0, message.to, text)
    outcome.rejected.extend(_rejected(phones, text, sent.rejected))
    return outcome, sent.send_at


def _rejected(phones: list[str], text: str, rejections: list[Rejection]) -> list[Rejected]:
    lines = {phone: line for line, phone in reversed(list(enumerate(phones, 1)))}
    return [Rejected(Row(lines.get(r.to, 0), r.to, text), r.reason) for r in rejections]


# -- quote -----------------------------------------------------------------------------------


def quote(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Message text.", show_default=False)],
    to: Annotated[
        list[str] | None,
        typer.Option("--to", help="Recipient (repeat, or comma-separate).", show_default=False),
    ] = None,
    sender: Annotated[str, typer.Option("--from", help="Sender name (an active originator).")] = "",
    url: Url = DEFAULT_URL,
    token: Token = None,
    json_out: JsonOut = False,
    timeout: Timeout = 10.0,
    retries: Retries = 3,
) -> None:
    """Price a text for recipients: encoding, parts, the characters forcing UCS-2, the price
    each and in total, and whether the balance covers it. Nothing is sent."""
    opts = options(url, token, json_out, timeout, retries)
    phones = phones_of(to)
    if not phones:
        fail("no recipients: pass --to PHONE", ExitCode.USAGE, json_out)
    if not sender:
        fail("no sender name: pass --from", ExitCode.USAGE, json_out)
    with reporting(json_out), connector(ctx).native_client(opts) as client:
        got = client.quote(phones, text, sender)
    if json_out:
        print_json(got)
    else:
        table = Table("to", "encoding", "parts", "characters", "price", box=None, pad_edge=False)
        for line in got.recipients:
            table.add_row(
                line.to, line.encoding, str(line.parts), str(line.characters), str(line.price)
            )
        out.print(table)
        forcing = sorted({c for line in got.recipients for c in line.ucs2_characters})
        if forcing:
            err.print("UCS-2 (70 characters a part) because of: " + " ".join(forcing))
        for item in got.rejected:
            err.print(f"rejected {item.to}: {item.reason}")
        covered = "covered" if got.covered else "NOT covered"
        out.print(
            f"total {got.total_price} {got.currency}; balance {got.balance} {got.currency}: "
            f"{covered}"
        )
    if got.rejected:
        raise typer.Exit(int(ExitCode.REJECTED))


# -- messages list / show --------------------------------------------------------------------


@messages_app.command("list")
def list_messages(
    ctx: typer.Context,
    phone: Annotated[str | None, typer.Option("--phone", help="A recipient.")] = None,
    status: Annotated[
        Status | None, typer.Option("--status", case_sensitive=False, help="A status.")
    ] = None,
    sender: Annotated[str | None, typer.Option("--from", help="A sender name.")] = None,
    since: Annotated[
        datetime | None, typer.Option("--since", help="Created at or after (ISO; local time).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option("--until", help="Created before (ISO; local time).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Messages a page.")] = 20,
    cursor: Annotated[
        str | None, typer.Option("--cursor", help="Continue after a page (its next cursor).")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every page, not just one.")] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
    json_out: JsonOut = False,
    timeout: Timeout = 10.0,
    retries: Retries = 3,
) -> None:
    """List messages, newest first, a page at a time (or --all), with filters."""
    opts = options(url, token, json_out, timeout, retries)
    since_at = None if since is None else _aware(since)
    until_at = None if until is None else _aware(until)
    with reporting(json_out), connector(ctx).native_client(opts) as client:
        wanted = None if status is None else str(status)
        if every:
            found = list(
                client.search(
                    phone=phone,
                    status=wanted,
                    sender=sender,
                    since=since_at,
                    until=until_at,
                    page_size=limit,
                )
            )
            next_cursor = None
        else:
            page = client.search_page(
                phone=phone,
                status=wanted,
                sender=sender,
                since=since_at,
                until=until_at,
                limit=limit,
                cursor=cursor,
            )
            found, next_cursor = page.messages, page.next_cursor
    if json_out:
        print_json({"messages": found, "next_cursor": next_cursor})
        return
    _print_summaries(found)
    if next_cursor is not None:
        err.print(f"more: --cursor {next_cursor}  (or --all)")


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.astimezone()


def _print_summaries(found: list[MessageSummary]) -> None:
    table = Table("id", "to", "from", "status", "created", "done", box=None, pad_edge=False)
    for m in found:
        table.add_row(m.id, m.to, m.sender, str(m.status), _local(m.created_at), _local(m.done_at))
    out.print(table)


@messages_app.command("show")
def show_message(
    ctx: typer.Context,
    message_id: Annotated[str, typer.Argument(metavar="ID", help="A message id.")],
    watch: Annotated[
        bool, typer.Option("--watch", help="Follow it until its status is final.")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between polls (--watch).")
    ] = 2.0,
    url: Url = DEFAULT_URL,
    token: Token = None,
    json_out: JsonOut = False,
    timeout: Timeout = 10.0,
    retries: Retries = 3,
) -> None:
    """Show a message: status, price, each part with its operator id, and its timeline."""
    opts = options(url, token, json_out, timeout, retries)
    wait = connector(ctx)
    with reporting(json_out), wait.native_client(opts) as client:
        message = client.message(message_id)
        shown: Status | None = None
        while watch and not message.is_final:
            if not json_out and message.status is not shown:
                err.print(f"{_local(datetime.now(UTC))}  {message.status}")
            shown = message.status
            wait.sleep(interval)
            message = client.message(message_id)
    _print_message(message, json_out)


def _print_message(message: Message, json_out: bool) -> None:
    if json_out:
        print_json(message)
        return
    out.print(f"id       {message.id}")
    out.print(f"to       {message.to}")
    out.print(f"from     {message.sender}")
    out.print(f"status   {message.status}" + (f" (error {message.error})" if message.error else ""))
    out.print(f"created  {_local(message.created_at)}")
    if message.done_at is not None:
        out.print(f"done     {_local(message.done_at)}")
    out.print(f"price    {message.price} {message.currency}")
    table = Table(
        "part", "state", "operator id", "price", "submitted", "done", box=None, pad_edge=False
    )
    for p in message.parts:
        table.add_row(
            str(p.seq),
            p.state,
            p.operator_id or "",
            str(p.price),
            _local(p.submitted_at),
            _local(p.done_at),
        )
    out.print(table)
    if message.events:
        out.print("timeline")
        for step in message.events:
            part = "" if step.part is None else f"part {step.part}"
            detail = step.operator_id or ("" if step.error is None else f"error {step.error}")
            out.print(f"  {_local(step.at)}  {step.type:<11} {part:<7} {detail}".rstrip())


# -- cancel, usage ---------------------------------------------------------------------------


def cancel(
    ctx: typer.Context,
    message_id: Annotated[str, typer.Argument(metavar="ID", help="A message id.")],
    url: Url = DEFAULT_URL,
    token: Token = None,
    json_out: JsonOut = False,
    timeout: Timeout = 10.0,
    retries: Retries = 3,
) -> None:
    """Cancel a scheduled message (its money comes back); too late once with the operator."""
    opts = options(url, token, json_out, timeout, retries)
    with reporting(json_out), connector(ctx).native_client(opts) as client:
        message = client.cancel(message_id)
    if json_out:
        print_json(message)
    else:
        out.print(f"cancelled {message.id}: {message.price} {message.currency} back")


def usage(
    ctx: typer.Context,
    start: Annotated[
        datetime | None,
        typer.Option(
            "--from", formats=["%Y-%m-%d"], help="First day (default: the 1st of this month)."
        ),
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, included (default: today)."),
    ] = None,
    group: Annotated[
        Group, typer.Option("--group", help="Rows by day, status or country.")
    ] = Group.day,
    url: Url = DEFAULT_URL,
    token: Token = None,
    json_out: JsonOut = False,
    timeout: Timeout = 10.0,
    retries: Retries = 3,
) -> None:
    """Messages, parts and money over days, by day, status or country."""
    opts = options(url, token, json_out, timeout, retries)
    today = date.today()
    first = start.date() if start is not None else today.replace(day=1)
    last = end.date() if end is not None else today
    with reporting(json_out), connector(ctx).native_client(opts) as client:
        got = client.usage(first, last, str(group))
    if json_out:
        print_json(
            {
                "from": got.start,
                "to": got.end,
                "group": got.group,
                "rows": [_row(r) for r in got.rows],
                "total": _row(got.total, key=False),
                "currency": got.currency,
            }
        )
        return
    cost = f"cost {got.currency}".strip()
    table = Table(str(got.group), "messages", "parts", cost, box=None, pad_edge=False)
    for row in [*got.rows, got.total]:
        table.add_row(row.key, str(row.messages), str(row.parts), str(row.cost))
    out.print(table)


def _row(row: UsageRow, *, key: bool = True) -> dict[str, object]:
    """A usage row as the API gives it (the total has no key)."""
    fields = {"messages": row.messages, "parts": row.parts, "cost": str(row.cost)}
    return {"key": row.key, **fields} if key else fields
