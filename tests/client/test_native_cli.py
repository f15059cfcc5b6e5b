"""The `sms` commands over the native API against a real node: a scheduled send cancelled, a
message shown and watched to its end, listing with filters and cursors, a quote; `--json` for
each. Usage runs over a mock transport until its server lands."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
from typer.testing import CliRunner

from smsgate.client.cli import app
from smsgate.client.cli_common import Connector
from smsgate.client.exit_codes import ExitCode

from .conftest import Live
from .fake_api import Sleeps

T = 30.0


async def sms(live: Live, *args: str) -> tuple[int, str, str]:
    """`sms ARGS` in a thread, so the node in this loop answers it."""
    env = {"SMSGATE_URL": live.url, "SMSGATE_TOKEN": live.token, "COLUMNS": "200"}

    def run() -> tuple[int, str, str]:
        result = CliRunner().invoke(app, list(args), env=env)
        return result.exit_code, result.stdout, result.stderr

    return await asyncio.wait_for(asyncio.to_thread(run), T)


async def test_send_at_schedules_and_cancel_gives_the_money_back(live: Live) -> None:
    code, stdout, stderr = await sms(live, "balance", "--json")
    before = json.loads(stdout)["money"]
    code, stdout, stderr = await sms(
        live,
        "send",
        "Later",
        "--to",
        "380501235001,x",
        "--from",
        live.sender,
        "--at",
        "+2h",
        "--json",
    )
    assert code == ExitCode.REJECTED, stderr
    sent = json.loads(stdout)
    [message_id] = sent["ids"]
    at = datetime.fromisoformat(sent["send_at"])
    assert abs(at - (datetime.now(UTC) + timedelta(hours=2))) < timedelta(minutes=1)
    assert sent["rejections"] == [
        {"line": 2, "phone": "x", "reason": sent["rejections"][0]["reason"]}
    ]
    code, stdout, stderr = await sms(live, "cancel", message_id)
    assert code == 0, stderr
    assert stdout.startswith(f"cancelled {message_id}: ")
    code, _stdout, stderr = await sms(live, "cancel", message_id, "--json")
    assert code == ExitCode.CONFLICT
    assert json.loads(stderr)["field"] == "id"
    code, stdout, stderr = await sms(live, "balance", "--json")
    assert json.loads(stdout)["money"] == before


async def test_send_at_with_only_refused_recipients_reports_them(live: Live) -> None:
    code, _stdout, stderr = await sms(
        live, "send", "Later", "--to", "x", "--from", live.sender, "--at", "+1h"
    )
    assert code == ExitCode.REJECTED
    assert "rejected x:" in stderr and "accepted 0, rejected 1" in stderr


async def test_a_bad_at_is_a_usage_error(live: Live) -> None:
    code, _stdout, stderr = await sms(
        live, "send", "Hi", "--to", "380501235002", "--from", live.sender, "--at", "soon"
    )
    assert code == ExitCode.USAGE and "+10m" in stderr


async def test_show_watches_a_message_until_it_is_delivered(live: Live) -> None:
    code, stdout, stderr = await sms(
        live, "send", "Watch me", "--to", "380501230000", "--from", live.sender, "--json"
    )
    [message_id] = json.loads(stdout)["ids"]
    code, stdout, stderr = await sms(
        live, "messages", "show", message_id, "--watch", "--interval", "0.1", "--json"
    )
    assert code == 0, stderr
    shown = json.loads(stdout)
    assert (shown["id"], shown["status"]) == (message_id, "DELIVRD")
    assert shown["parts"][0]["operator_id"] and shown["price"] == shown["parts"][0]["price"]
    code, stdout, stderr = await sms(live, "messages", "show", message_id)
    assert code == 0, stderr
    assert "status   DELIVRD" in stdout and "operator id" in stdout
    assert [e["type"] for e in shown["events"]] == ["accepted", "submitted", "delivered"]
    assert "timeline" in stdout and "delivered   part 1" in stdout
    code, _stdout, stderr = await sms(live, "messages", "show", "999999999")
    assert code == ExitCode.NOT_FOUND and "999999999" in stderr


async def test_list_pages_with_cursors_and_filters(live: Live) -> None:
    phone = "380501235010"
    ids = []
    for n in range(3):
        code, stdout, stderr = await sms(
            live, "send", f"List {n}", "--to", phone, "--from", live.sender, "--json"
        )
        ids.extend(json.loads(stdout)["ids"])
    code, stdout, stderr = await sms(
        live, "messages", "list", "--phone", phone, "--limit", "2", "--json"
    )
    assert code == 0, stderr
    first = json.loads(stdout)
    code, stdout, stderr = await sms(
        live, "messages", "list", "--phone", phone, "--limit", "2", "--cursor", first["next_cursor"]
    )
    assert code == 0, stderr
    assert [m["id"] for m in first["messages"]] == ids[::-1][:2]
    assert ids[0] in stdout and ids[1] not in stdout and "more:" not in stderr
    code, stdout, stderr = await sms(
        live, "messages", "list", "--phone", phone, "--limit", "1", "--all", "--json"
    )
    every = json.loads(stdout)
    assert [m["id"] for m in every["messages"]] == ids[::-1] and every["next_cursor"] is None
    code, stdout, stderr = await sms(
        live, "send", "Refused", "--to", "380501230003", "--from", live.sender, "--json"
    )
    [refused] = json.loads(stdout)["ids"]
    await sms(live, "messages", "show", refused, "--watch", "--interval", "0.1")
    code, stdout, stderr = await sms(
        live, "messages", "list", "--status", "rejectd", "--since", "2000-01-01T00:00", "--json"
    )
    assert code == 0, stderr
    assert [m["id"] for m in json.loads(stdout)["messages"]] == [refused]
    code, stdout, stderr = await sms(live, "messages", "list", "--limit", "1")
    assert "more: --cursor " in stderr


async def test_quote_prices_and_names_the_ucs2_characters(live: Live) -> None:
    code, stdout, stderr = await sms(
        live, "quote", "Ціна ✓", "--to", "380501235020", "--from", live.sender, "--json"
    )
    assert code == 0, stderr
    quote = json.loads(stdout)
    [line] = quote["recipients"]
    assert line["encoding"] == "UCS-2" and "✓" in line["ucs2_characters"]
    assert quote["covered"] is True and quote["total_price"] == line["price"]
    code, stdout, stderr = await sms(
        live, "quote", "Ціна ✓", "--to", "380501235020,x", "--from", live.sender
    )
    assert code == ExitCode.REJECTED
    assert "UCS-2" in stdout and "covered" in stdout
    assert "because of:" in stderr and "rejected x" in stderr


USAGE = {
    "from": "2026-12-01",
    "to": "2026-12-07",
    "group": "country",
    "rows": [{"key": "UA", "messages": 3, "parts": 4, "cost": "1.20"}],
    "total": {"messages": 3, "parts": 4, "cost": "1.20"},
    "currency": "UAH",
}


def test_usage_asks_the_days_and_group_and_prints_rows_and_total() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=USAGE)

    sleeps = Sleeps()
    connector = Connector(transport=httpx.MockTransport(handle), sleep=sleeps)
    env = {"SMSGATE_TOKEN": "t", "SMSGATE_URL": "http://api.test"}
    args = ["usage", "--from", "2026-12-01", "--to", "2026-12-07", "--group", "country"]
    table = CliRunner().invoke(app, args, obj=connector, env=env)
    as_json = CliRunner().invoke(app, [*args, "--json"], obj=connector, env=env)
    assert table.exit_code == 0, table.output
    assert dict(seen[0].url.params) == {
        "from": "2026-12-01",
        "to": "2026-12-07",
        "group": "country",
    }
    assert "UA" in table.stdout and "total" in table.stdout and "1.20" in table.stdout
    assert json.loads(as_json.stdout) == USAGE
    bad = CliRunner().invoke(app, ["usage", "--from", "December"], obj=connector, env=env)
    assert bad.exit_code == ExitCode.USAGE
