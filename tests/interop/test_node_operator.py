"""Our client bound to an operator written with node smpp 0.5.1: windowed submits, its
receipts, a dropped connection and its ESME_RTHROTTLED answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from node_peer import NodeOperator

from smsgate.smpp.client import NotAcknowledged, SmppClient
from smsgate.smpp.constants import CommandStatus, MessageState, Tag
from smsgate.smpp.pdu import DataSm, DeliverSm, Pdu, SubmitSm

pytestmark = pytest.mark.usefixtures("node_smpp")
T = 10.0
CREDENTIALS = {"system_id": "smsgate", "password": "secret"}


@asynccontextmanager
async def bound_client(operator: NodeOperator, **options: object) -> AsyncIterator[SmppClient]:
    client = SmppClient(
        "127.0.0.1",
        operator.port,
        "smsgate",
        "secret",
        "transceiver",
        backoff_initial=0.05,
        **options,  # type: ignore[arg-type]
    )
    await client.start()
    try:
        await client.wait_bound(T)
        yield client
    finally:
        await asyncio.wait_for(client.close(timeout=1.0), T)


def submit(n: int, registered_delivery: int = 1) -> SubmitSm:
    return SubmitSm(
        source_addr="SMSGATE",
        destination_addr=f"3805000{n:05d}",
        registered_delivery=registered_delivery,
        short_message=f"message {n}".encode(),
    )


async def test_windowed_submits_and_their_receipts() -> None:
    receipts: list[DeliverSm | DataSm] = []

    def on_deliver(pdu: DeliverSm | DataSm) -> int:
        receipts.append(pdu)
        return 0

    async with (
        NodeOperator({**CREDENTIALS, "delay_ms": 30}) as operator,
        bound_client(operator, window=5, on_deliver=on_deliver) as client,
    ):
        responses = await asyncio.wait_for(
            asyncio.gather(*(client.submit(submit(n)) for n in range(20))), T
        )
        assert all(r.command_status == 0 for r in responses)
        await operator.wait_for("submit", 20)
        in_flight = [e["in_flight"] for e in operator.of("submit")]
        assert max(in_flight) == 5  # the window is used, and never exceeded
        await operator.wait_for("deliver_resp", 20)
        ids = {r.message_id for r in responses}
        assert {p.tlvs[Tag.RECEIPTED_MESSAGE_ID] for p in receipts} == ids
        assert all(p.tlvs[Tag.MESSAGE_STATE] == MessageState.DELIVERED for p in receipts)
        assert all(e["command_status"] == 0 for e in operator.of("deliver_resp"))


async def test_dropped_connection_reports_every_unacknowledged_request_and_rebinds() -> None:
    reported: list[Pdu] = []
    async with (
        NodeOperator({**CREDENTIALS, "delay_ms": 300, "drop_after": 3}) as operator,
        bound_client(operator, window=8, on_unacknowledged=reported.extend) as client,
    ):
        results = await asyncio.wait_for(
            asyncio.gather(
                *(client.submit(submit(n, 0)) for n in range(8)), return_exceptions=True
            ),
            T,
        )
        assert operator.of("dropped")
        lost = [r for r in results if isinstance(r, NotAcknowledged)]
        assert len(lost) == 8  # none was answered before the drop
        assert sorted(p.destination_addr for p in reported) == sorted(
            submit(n).destination_addr for n in range(8)
        )
        await client.wait_bound(T)
        await operator.wait_for("bind", 2)
        again = await asyncio.wait_for(client.submit(submit(99, 0)), T)
        assert again.command_status == 0
        assert client.counters.reconnects == 1


async def test_throttled_answers_are_backed_off_and_retried() -> None:
    async with (
        NodeOperator({**CREDENTIALS, "throttle_first": 3}) as operator,
        bound_client(operator, throttle_backoff=0.05, throttle_retries=5) as client,
    ):
        loop = asyncio.get_running_loop()
        started = loop.time()
        response = await asyncio.wait_for(client.submit(submit(1, 0)), T)
        assert response.command_status == 0
        await operator.wait_for("throttled", 3)
        assert client.counters.throttled == 3
        # Three pauses of 0.05, 0.1 and 0.2 s (each jittered by at least half) came between.
        assert loop.time() - started >= 0.15


async def test_throttling_that_outlasts_the_retries_is_returned() -> None:
    async with (
        NodeOperator({**CREDENTIALS, "throttle_first": 10}) as operator,
        bound_client(operator, throttle_backoff=0.01, throttle_retries=2) as client,
    ):
        response = await asyncio.wait_for(client.submit(submit(1, 0)), T)
        assert response.command_status == CommandStatus.ESME_RTHROTTLED
        await operator.wait_for("throttled", 3)  # its log line may trail the response
        assert client.counters.throttled == 3
