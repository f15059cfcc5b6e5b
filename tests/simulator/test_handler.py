"""The simulated operator over loopback, driven by our own SMPP client."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from smsgate.simulator import Simulator, SimulatorConfig, running_simulator
from smsgate.smpp.client import BindFailed, SmppClient
from smsgate.smpp.constants import CommandId, CommandStatus, MessageState, Tag
from smsgate.smpp.pdu import (
    BindTransceiver,
    DataSm,
    DeliverSm,
    Pdu,
    QuerySm,
    SubmitSm,
    decode,
    encode,
)
from smsgate.smpp.receipt import parse_receipt
from smsgate.smpp.udh import build_concat_udh

S = CommandStatus
T = 5.0


@asynccontextmanager
async def simulator(**options: object) -> AsyncIterator[Simulator]:
    options.setdefault("receipt_delay", 0.02)
    async with running_simulator(SimulatorConfig(port=0, **options)) as sim:  # type: ignore[arg-type]
        yield sim


@asynccontextmanager
async def esme(
    sim: Simulator, bind_type: str = "transceiver", password: str = "sim", **options: object
) -> AsyncIterator[tuple[SmppClient, list[DeliverSm | DataSm]]]:
    receipts: list[DeliverSm | DataSm] = []

    def on_deliver(pdu: DeliverSm | DataSm) -> int:
        receipts.append(pdu)
        return 0

    client = SmppClient(
        "127.0.0.1",
        sim.port,
        "smsgate",
        password,
        bind_type,
        on_deliver=on_deliver,
        backoff_initial=0.05,
        **options,  # type: ignore[arg-type]
    )
    await client.start()
    try:
        yield client, receipts
    finally:
        await asyncio.wait_for(client.close(timeout=1.0), T)


async def until(condition: object, timeout: float = T) -> None:
    async def poll() -> None:
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


def submit(destination: str, registered_delivery: int = 1, **fields: object) -> SubmitSm:
    return SubmitSm(
        source_addr="SMSGATE",
        source_addr_ton=5,
        destination_addr=destination,
        dest_addr_ton=1,
        dest_addr_npi=1,
        registered_delivery=registered_delivery,
        short_message=fields.pop("short_message", b"hello world"),  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )


async def test_receipt_carries_the_id_in_text_and_tlvs_with_addresses_swapped() -> None:
    async with simulator() as sim, esme(sim) as (client, receipts):
        await client.wait_bound(T)
        response = await asyncio.wait_for(client.submit(submit("380501234568")), T)
        assert response.command_status == 0 and response.message_id.isdigit()
        await until(lambda: receipts)
        (receipt,) = receipts
        assert isinstance(receipt, DeliverSm) and receipt.esm_class == 0x04
        assert receipt.tlvs[Tag.RECEIPTED_MESSAGE_ID] == response.message_id
        assert receipt.tlvs[Tag.MESSAGE_STATE] == MessageState.DELIVERED
        assert (receipt.source_addr, receipt.source_addr_ton) == ("380501234568", 1)
        assert (receipt.destination_addr, receipt.dest_addr_ton) == ("SMSGATE", 5)
        text = parse_receipt(receipt.short_message)
        assert (text.id, text.stat, text.text) == (response.message_id, "DELIVRD", "hello world")
        await until(lambda: sim.counters.receipts_acked == 1)


@pytest.mark.parametrize(
    ("ending", "stat", "state"),
    [
        ("0001", "UNDELIV", MessageState.UNDELIVERABLE),
        ("0002", "EXPIRED", MessageState.EXPIRED),
        ("0003", "REJECTD", MessageState.REJECTED),
    ],
)
async def test_failure_numbers_get_failure_receipts(
    ending: str, stat: str, state: MessageState
) -> None:
    async with simulator() as sim, esme(sim) as (client, receipts):
        await client.wait_bound(T)
        await asyncio.wait_for(client.submit(submit("38050123" + ending)), T)
        await until(lambda: receipts)
        assert receipts[0].tlvs[Tag.MESSAGE_STATE] == state
        assert parse_receipt(receipts[0].short_message).stat == stat


async def test_refusing_numbers_answer_the_submit_with_an_error() -> None:
    async with simulator() as sim, esme(sim, throttle_retries=0) as (client, _):
        await client.wait_bound(T)
        throttled = await asyncio.wait_for(client.submit(submit("380501230004")), T)
        failed = await asyncio.wait_for(client.submit(submit("380501230005")), T)
        assert throttled.command_status == S.ESME_RTHROTTLED
        assert failed.command_status == S.ESME_RSUBMITFAIL
        assert sim.counters.refused == 2 and sim.counters.submits == 0


async def test_slow_number_receipt_comes_five_times_later_and_silent_number_never() -> None:
    async with simulator(receipt_delay=0.1) as sim, esme(sim) as (client, receipts):
        await client.wait_bound(T)
        loop = asyncio.get_running_loop()
        started = loop.time()
        slow = await asyncio.wait_for(client.submit(submit("380501230006")), T)
        silent = await asyncio.wait_for(client.submit(submit("380501230007")), T)
        await until(lambda: receipts)
        assert loop.time() - started >= 0.45
        assert [r.tlvs[Tag.RECEIPTED_MESSAGE_ID] for r in receipts] == [slow.message_id]
        assert sim.handler.outcome_of(silent.message_id) is None
        assert sim.handler.outcome_of(slow.message_id) == "DELIVRD"
        assert sim.counters.outcomes == {"DELIVRD": 1, None: 1}


async def test_no_receipt_unless_asked_and_failure_only_receipts_skip_successes() -> None:
    async with simulator() as sim, esme(sim) as (client, receipts):
        await client.wait_bound(T)
        await asyncio.wait_for(client.submit(submit("380501230008", registered_delivery=0)), T)
        await asyncio.wait_for(client.submit(submit("380501230009", registered_delivery=2)), T)
        failed = await asyncio.wait_for(
            client.submit(submit("380501230001", registered_delivery=2)), T
        )
        await until(lambda: receipts)
        await asyncio.sleep(0.1)
        assert [r.tlvs[Tag.RECEIPTED_MESSAGE_ID] for r in receipts] == [failed.message_id]


async def test_message_ids_are_unique_and_hex_when_configured() -> None:
    async with (
        simulator(message_ids="hex", first_message_id=0xABC0) as sim,
        esme(sim) as (
            client,
            _,
        ),
    ):
        await client.wait_bound(T)
        answers = await asyncio.wait_for(
            asyncio.gather(*(client.submit(submit(f"38050{i:06d}8")) for i in range(20))), T
        )
        ids = [a.message_id for a in answers]
        assert len(set(ids)) == 20
        assert ids[0] == "abc0" and all(int(i, 16) >= 0xABC0 for i in ids)


async def test_every_udh_and_sar_part_gets_its_own_id_and_receipt() -> None:
    async with simulator() as sim, esme(sim) as (client, receipts):
        await client.wait_bound(T)
        udh_parts = [
            submit(
                "380501111118",
                esm_class=0x40,
                short_message=build_concat_udh(0x42, 3, seq) + b"part",
            )
            for seq in (1, 2, 3)
        ]
        sar_parts = [
            submit(
                "380502222228",
                tlvs={
                    Tag.SAR_MSG_REF_NUM: 0x1234,
                    Tag.SAR_TOTAL_SEGMENTS: 2,
                    Tag.SAR_SEGMENT_SEQNUM: seq,
                },
            )
            for seq in (1, 2)
        ]
        answers = await asyncio.wait_for(
            asyncio.gather(*(client.submit(p) for p in udh_parts + sar_parts)), T
        )
        ids = {a.message_id for a in answers}
        assert len(ids) == 5
        await until(lambda: len(receipts) == 5)
        assert {r.tlvs[Tag.RECEIPTED_MESSAGE_ID] for r in receipts} == ids
        parts = sim.counters.parts
        assert {k for k in parts if k[0] == "380501111118"} == {
            ("380501111118", 0x42, 3, s) for s in (1, 2, 3)
        }
        assert {k for k in parts if k[0] == "380502222228"} == {
            ("380502222228", 0x1234, 2, s) for s in (1, 2)
        }
        assert sim.counters.by_destination["380501111118"] == 3


async def test_receipt_for_a_transmitter_goes_to_the_receiver_bind_of_that_system_id() -> None:
    async with (
        simulator() as sim,
        esme(sim, "transmitter") as (tx, tx_receipts),
        esme(sim, "receiver") as (rx, rx_receipts),
    ):
        await tx.wait_bound(T)
        await rx.wait_bound(T)
        answer = await asyncio.wait_for(tx.submit(submit("380501230008")), T)
        await until(lambda: rx_receipts)
        assert rx_receipts[0].tlvs[Tag.RECEIPTED_MESSAGE_ID] == answer.message_id
        assert tx_receipts == []


async def test_receipt_waits_for_a_receiving_bind() -> None:
    async with simulator(receipt_delay=0.0) as sim:
        async with esme(sim, "transmitter") as (tx, _):
            await tx.wait_bound(T)
            answer = await asyncio.wait_for(tx.submit(submit("380501230008")), T)
        assert sim.handler.pending_receipts == 1
        async with esme(sim, "receiver") as (_rx, receipts):
            await until(lambda: receipts)
            assert receipts[0].tlvs[Tag.RECEIPTED_MESSAGE_ID] == answer.message_id


async def test_wrong_credentials_are_refused() -> None:
    async with simulator() as sim, esme(sim, password="wrong", reconnect=False) as (client, _):
        with pytest.raises(Exception):  # noqa: B017 - ClientClosed or TimeoutError, both fine
            await client.wait_bound(1.0)
        assert isinstance(client.last_error, BindFailed)
        assert client.last_error.command_status == S.ESME_RINVPASWD
        assert sim.counters.bind_failures == 1


async def test_throttle_switch_refuses_submits_above_the_rate() -> None:
    async with simulator(throttle_tps=5) as sim, esme(sim, throttle_retries=0) as (client, _):
        await client.wait_bound(T)
        answers = await asyncio.wait_for(
            asyncio.gather(*(client.submit(submit("380501230008", 0)) for _ in range(12))), T
        )
        statuses = [a.command_status for a in answers]
        assert statuses.count(0) == 5
        assert statuses.count(S.ESME_RTHROTTLED) == 7
        assert sim.counters.throttled == 7


async def test_drop_switch_cuts_the_connection_after_n_submits() -> None:
    lost: list[Pdu] = []
    async with (
        simulator(drop_after=3) as sim,
        esme(sim, on_unacknowledged=lost.extend) as (client, _),
    ):
        await client.wait_bound(T)
        results = await asyncio.wait_for(
            asyncio.gather(
                *(client.submit(submit(f"38050123{i:04d}8", 0)) for i in range(5)),
                return_exceptions=True,
            ),
            T,
        )
        answered = [r for r in results if isinstance(r, Pdu)]
        assert len(answered) == 3 and len(lost) == 2
        assert sim.counters.dropped_connections == 1
        await client.wait_bound(T)  # and it comes back


async def test_never_answer_switch_leaves_submits_unanswered() -> None:
    async with simulator(never_answer=True) as sim, esme(sim, response_timeout=0.2) as (client, _):
        await client.wait_bound(T)
        with pytest.raises(Exception) as caught:
            await asyncio.wait_for(client.submit(submit("380501230008")), T)
        assert type(caught.value).__name__ == "NotAcknowledged"


async def test_query_sm_reports_the_state_of_the_receipt() -> None:
    async with simulator() as sim, esme(sim) as (client, _receipts):
        await client.wait_bound(T)
        answer = await asyncio.wait_for(client.submit(submit("380501230001")), T)
        query = await asyncio.wait_for(client.submit(QuerySm(message_id=answer.message_id)), T)
        assert query.message_state == MessageState.UNDELIVERABLE
        unknown = await asyncio.wait_for(client.submit(QuerySm(message_id="nope")), T)
        assert unknown.command_status == S.ESME_RQUERYFAIL


async def test_data_sm_is_accepted_and_receipted_too() -> None:
    async with simulator() as sim, esme(sim) as (client, receipts):
        await client.wait_bound(T)
        pdu = DataSm(
            destination_addr="380501230008",
            registered_delivery=1,
            tlvs={Tag.MESSAGE_PAYLOAD: b"payload"},
        )
        answer = await asyncio.wait_for(client.submit(pdu), T)
        assert answer.command_id == CommandId.DATA_SM_RESP
        await until(lambda: receipts)
        assert receipts[0].tlvs[Tag.RECEIPTED_MESSAGE_ID] == answer.message_id


async def test_submit_sm_resp_is_on_the_wire_before_its_receipt() -> None:
    async with simulator(receipt_delay=0.0) as sim:
        reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
        try:
            bind = BindTransceiver(sequence_number=1, system_id="smsgate", password="sim")
            writer.write(encode(bind) + encode(submit("380501230008", sequence_number=2)))

            async def read() -> Pdu:
                (length,) = struct.unpack("!I", await reader.readexactly(4))
                return decode(struct.pack("!I", length) + await reader.readexactly(length - 4))

            order = [await asyncio.wait_for(read(), T) for _ in range(3)]
            assert [p.command_id for p in order] == [
                CommandId.BIND_TRANSCEIVER_RESP,
                CommandId.SUBMIT_SM_RESP,
                CommandId.DELIVER_SM,
            ]
            assert order[2].tlvs[Tag.RECEIPTED_MESSAGE_ID] == order[1].message_id
        finally:
            writer.close()
