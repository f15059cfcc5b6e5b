"""The SDK and the CLI against a real smsgate node on 127.0.0.1 (JSON API over a real socket,
the simulator as its operator): the contract as the server speaks it, not as the fake does.
The `live` node is conftest's.
"""

from __future__ import annotations

import asyncio
import csv
import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from smsgate.client import (
    AsyncClient,
    AuthenticationError,
    Client,
    DuplicateError,
    Status,
    StatusReport,
    ValidationError,
)
from smsgate.client.cli import app
from smsgate.client.exit_codes import ExitCode

from .conftest import Live

# The simulator's outcomes by the last digits of the destination.
OUTCOMES = {
    "380501230000": Status.DELIVRD,
    "380501230001": Status.UNDELIV,
    "380501230002": Status.EXPIRED,
    "380501230003": Status.REJECTD,
}


async def final_statuses(client: AsyncClient, ids: list[str], timeout: float = 20) -> StatusReport:
    async def poll() -> StatusReport:
        while True:
            report = await client.status(ids)
            if report.all_final and len(report) + len(report.unknown) == len(ids):
                return report
            await asyncio.sleep(0.1)

    return await asyncio.wait_for(poll(), timeout)


async def test_send_then_every_final_status_by_the_async_client(live: Live) -> None:
    async with AsyncClient(live.url, live.token, timeout=5) as client:
        result = await asyncio.wait_for(
            client.send([*OUTCOMES, "12"], "Hello from the SDK", live.sender), 10
        )
        assert sorted(result.accepted.values()) == sorted(OUTCOMES)
        assert list(result.rejected) == ["12"]
        report = await final_statuses(client, [*result.accepted, "999999"])
    assert {result.accepted[i]: s for i, s in report.items()} == OUTCOMES
    assert list(report.unknown) == ["999999"]


async def test_balance_and_senders_of_the_demo_account(live: Live) -> None:
    async with AsyncClient(live.url, live.token, timeout=5) as client:
        balance = await asyncio.wait_for(client.balance(), 10)
        senders = await asyncio.wait_for(client.senders(), 10)
    assert isinstance(balance.money, Decimal) and balance.money > 0
    assert balance.currency
    assert live.sender in senders


async def test_request_level_errors_of_the_real_gateway(live: Live) -> None:
    async with AsyncClient(live.url, "not-the-token", timeout=5, retries=0) as wrong:
        with pytest.raises(AuthenticationError) as auth:
            await asyncio.wait_for(wrong.balance(), 10)
    assert auth.value.status_code == 401
    async with AsyncClient(live.url, live.token, timeout=5, retries=0) as client:
        with pytest.raises(ValidationError) as invalid:
            await asyncio.wait_for(client.send(["380501234567"], "Hi", "NotMine"), 10)
        assert "src_addr" in invalid.value.fields
        await asyncio.wait_for(client.send(["380501234567"], "Same text", live.sender), 10)
        with pytest.raises(DuplicateError) as duplicate:
            await asyncio.wait_for(client.send(["380501234567"], "Same text", live.sender), 10)
    assert duplicate.value.status_code == 453


async def test_personal_send_of_150_is_split_and_every_id_answers_status(live: Live) -> None:
    items = [(f"38050123{n:04d}", f"Personal {n}") for n in range(100, 250)]
    async with AsyncClient(live.url, live.token, timeout=5) as client:
        result = await asyncio.wait_for(client.send_personal(items, live.sender), 20)
        assert list(result.accepted.values()) == [phone for phone, _ in items]
        report = await asyncio.wait_for(client.status(list(result.accepted)), 10)
    assert list(report) == list(result.accepted)


async def test_the_sync_client_against_the_same_gateway(live: Live) -> None:
    def talk() -> tuple[Decimal, list[str]]:
        with Client(live.url, live.token, timeout=5) as client:
            ids = client.send("380501239999", "Hello, blocking world", live.sender).ids
            return client.balance().money, ids

    money, ids = await asyncio.wait_for(asyncio.to_thread(talk), 20)
    assert money > 0
    assert len(ids) == 1


async def test_the_cli_sends_a_csv_and_watches_until_final(live: Live, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["phone", "message"])
        # Endings 0100-0349: none of the simulator's magic ones (0004 and 0007 never end).
        writer.writerows([f"38050124{n:04d}", f"Hi {n}"] for n in range(100, 350))
        writer.writerow(["bogus", "Hi"])
    accepted = tmp_path / "accepted.csv"
    env = {"SMSGATE_URL": live.url, "SMSGATE_TOKEN": live.token}

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(app, list(args), env=env)
        return result.exit_code, result.stdout, result.stderr

    code, stdout, stderr = await asyncio.wait_for(
        asyncio.to_thread(
            run,
            "send",
            "--csv",
            str(path),
            "--from",
            live.sender,
            "--json",
            "--accepted-out",
            str(accepted),
        ),
        30,
    )
    assert code == ExitCode.REJECTED, stderr
    summary = json.loads(stdout)
    assert (summary["accepted"], summary["rejected"]) == (250, 1)
    with accepted.open() as file:
        ids = [row["id"] for row in csv.DictReader(file)][:20]
    code, stdout, stderr = await asyncio.wait_for(
        asyncio.to_thread(run, "status", *ids, "--watch", "--interval", "0.2", "--json"), 30
    )
    assert code == 0, stderr
    assert set(json.loads(stdout)["statuses"].values()) == {"DELIVRD"}


async def test_the_cli_sends_20000_csv_rows_to_a_live_gateway(live: Live, tmp_path: Path) -> None:
    path = tmp_path / "campaign.csv"
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["phone"])
        writer.writerows([f"38050{1_000_000 + n:07d}"] for n in range(20_000))
    rejected = tmp_path / "rejected.csv"
    env = {"SMSGATE_URL": live.url, "SMSGATE_TOKEN": live.token}
    demo = await live.store.credentials("demo")
    await live.store.top_up(demo.account.id, 20_000 * 10_000)

    def run() -> tuple[int, str, str]:
        result = CliRunner().invoke(
            app,
            [
                "send",
                "--csv",
                str(path),
                "--from",
                live.sender,
                "--text",
                "Campaign",
                "--rate",
                "0",
                "--json",
                "--rejected-out",
                str(rejected),
            ],
            env=env,
        )
        return result.exit_code, result.stdout, result.stderr

    code, stdout, _stderr = await asyncio.wait_for(asyncio.to_thread(run), 120)
    assert code == 0, stdout[:2000] + (rejected.read_text()[:1000] if rejected.exists() else "")
    summary = json.loads(stdout)
    assert (summary["accepted"], summary["rejected"]) == (20_000, 0)


class _LosesFirstAnswer(httpx.AsyncBaseTransport):
    """A network that delivers the first send but loses its answer: the gateway has sent the
    messages, the client sees a read error and retries."""

    def __init__(self) -> None:
        self._real = httpx.AsyncHTTPTransport()
        self.keys: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._real.handle_async_request(request)
        if request.url.path.endswith("/send"):
            self.keys.append(request.headers.get("Idempotency-Key"))
            if len(self.keys) == 1:
                await response.aread()
                raise httpx.ReadError("connection reset before the answer", request=request)
        return response

    async def aclose(self) -> None:
        await self._real.aclose()


async def test_a_retry_after_a_lost_answer_gets_the_first_ids_not_a_duplicate(
    live: Live,
) -> None:
    network = _LosesFirstAnswer()
    async with AsyncClient(
        live.url, live.token, timeout=5, transport=network, backoff=0.01
    ) as client:
        result = await client.send(["380501230000"], "Lost answer", live.sender)
        report = await client.status(list(result.ids))
    assert len(result.ids) == 1 and not result.rejected
    assert len(network.keys) == 2 and network.keys[0] == network.keys[1] is not None
    assert list(report) == result.ids and not report.unknown  # the id the server really gave
