"""Bulk sending: batches of 100, every row accounted for, fatal errors stop the run, pacing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from smsgate.client.async_client import AsyncClient
from smsgate.client.bulk_send import Pacer, is_fatal, send_rows
from smsgate.client.csv_rows import Row
from smsgate.client.errors import (
    AuthenticationError,
    DuplicateError,
    ServerError,
    ValidationError,
)

from .fake_api import SENDER, TOKEN, FakeApi, Sleeps, top_level


@pytest.fixture
async def client(api: FakeApi, sleeps: Sleeps) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(
        "http://gateway.test", TOKEN, transport=api.transport(), sleep=sleeps.asleep, retries=1
    ) as c:
        yield c


def rows(count: int, text: str = "Hi") -> list[Row]:
    return [Row(n + 1, f"38050{n:07d}", text) for n in range(count)]


async def test_rows_go_in_batches_of_100_and_each_accepted_row_gets_its_id(
    client: AsyncClient, api: FakeApi
) -> None:
    given = rows(250)
    outcome = await asyncio.wait_for(
        send_rows(client, given, SENDER, one_text=True, concurrency=3), 5
    )
    assert sorted(len(s.body["phone"]) for s in api.seen) == [50, 100, 100]
    assert sorted(outcome.accepted.values(), key=lambda r: r.line) == given
    for message_id, row in outcome.accepted.items():
        assert api.statuses[message_id] == "ENROUTE"
        assert row in given
    assert outcome.rejected == []
    assert outcome.fatal is None


async def test_personal_rows_go_by_v2(client: AsyncClient, api: FakeApi) -> None:
    await asyncio.wait_for(send_rows(client, rows(3), SENDER, one_text=False), 5)
    assert api.paths == ["/v2/sms/send"]


async def test_rows_the_server_rejects_carry_its_reason(client: AsyncClient) -> None:
    given = [Row(1, "380501234567", "Hi"), Row(2, "oops", "Hi")]
    outcome = await asyncio.wait_for(send_rows(client, given, SENDER, one_text=True), 5)
    assert list(outcome.accepted.values()) == [given[0]]
    assert [(r.row, r.reason) for r in outcome.rejected] == [(given[1], "Invalid phone number")]


async def test_a_failed_batch_rejects_its_rows_and_the_run_goes_on(
    client: AsyncClient, api: FakeApi
) -> None:
    api.script(top_level("Duplicate", "Doubled SMS in less than 2 minutes.", 453))
    progress: list[int] = []
    outcome = await asyncio.wait_for(
        send_rows(
            client, rows(150), SENDER, one_text=True, concurrency=1, on_batch=progress.append
        ),
        5,
    )
    assert len(outcome.rejected) == 100
    assert {r.reason for r in outcome.rejected} == {"Doubled SMS in less than 2 minutes."}
    assert len(outcome.accepted) == 50
    assert progress == [100, 50]
    assert outcome.fatal is None


async def test_a_bad_sender_stops_the_run_and_the_rest_is_marked_not_sent(
    client: AsyncClient, api: FakeApi
) -> None:
    outcome = await asyncio.wait_for(
        send_rows(client, rows(500), "Nobody", one_text=True, concurrency=1), 5
    )
    assert len(api.seen) == 1
    assert isinstance(outcome.fatal, ValidationError)
    assert len(outcome.rejected) == 500
    assert sum(r.reason.startswith("not sent: ") for r in outcome.rejected) == 400


def test_only_errors_every_batch_would_repeat_are_fatal() -> None:
    assert is_fatal(AuthenticationError("bad token", 401))
    assert is_fatal(ValidationError("src_addr: inactive", 400, {"src_addr": "inactive"}))
    assert not is_fatal(ValidationError("message: too long", 400, {"message": "too long"}))
    assert not is_fatal(DuplicateError("doubled", 453))
    assert not is_fatal(ServerError("boom", 500))


async def test_pacer_spaces_starts_by_the_rate() -> None:
    sleeps = Sleeps()
    pacer = Pacer(10, sleep=sleeps.asleep, clock=sleeps.clock)
    for _ in range(4):
        await pacer.wait()
    assert sleeps == pytest.approx([0.1, 0.1, 0.1])


async def test_pacer_with_rate_zero_never_waits() -> None:
    sleeps = Sleeps()
    pacer = Pacer(0, sleep=sleeps.asleep, clock=sleeps.clock)
    for _ in range(3):
        await pacer.wait()
    assert sleeps == []
