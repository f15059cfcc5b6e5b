"""node smpp 0.5.1 as the ESME against our simulator: binds of every kind, GSM-7, UCS-2 and
multipart (UDH and SAR), and a receipt with the right id and state for every message."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from node_peer import run_node_esme

from smsgate.domain.gsm7 import decode_gsm7
from smsgate.simulator import SimulatorConfig, running_simulator
from smsgate.smpp.client import SmppClient
from smsgate.smpp.constants import MessageState
from smsgate.smpp.pdu import SubmitSm
from smsgate.smpp.udh import build_concat_udh

pytestmark = pytest.mark.usefixtures("node_smpp")

STATE_OF_ENDING = {
    "0001": MessageState.UNDELIVERABLE,
    "0002": MessageState.EXPIRED,
    "0003": MessageState.REJECTED,
}


def by_event(lines: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["event"] == event]


def check_receipts(lines: list[dict[str, Any]], messages: list[dict[str, Any]]) -> None:
    """Every accepted message got exactly one receipt, with its id and the expected state."""
    responses = {r["index"]: r for r in by_event(lines, "submit_resp")}
    assert len(responses) == len(messages)
    assert all(r["command_status"] == 0 for r in responses.values())
    expected = {
        responses[i]["message_id"]: STATE_OF_ENDING.get(
            m["destination_addr"][-4:], MessageState.DELIVERED
        )
        for i, m in enumerate(messages)
    }
    receipts = by_event(lines, "deliver_sm")
    assert len(receipts) == len(messages)
    got = {r["receipted_message_id"]: r["message_state"] for r in receipts}
    assert got == expected
    for r in receipts:
        assert r["esm_class"] == 0x04
        assert f"id:{r['receipted_message_id']} " in r["text"]


def message(destination: str, **fields: Any) -> dict[str, Any]:
    return {
        "source_addr": "SMSGATE",
        "destination_addr": destination,
        "registered_delivery": 1,
        **fields,
    }


@pytest.mark.parametrize("bind", ["transceiver", "transmitter"])
async def test_node_submits_gsm7_with_a_window_and_gets_every_receipt(bind: str) -> None:
    messages = [
        message(
            f"3805012{i:05d}"[:-4] + ending,
            data_coding=0,  # else node labels its GSM 03.38 bytes 0x01 (IA5)
            short_message={"text": f"hello {i} @£$"},
        )
        for i, ending in enumerate(["0008", "0001", "0002", "0003", "1238"] * 6)
    ]
    async with running_simulator(SimulatorConfig(port=0, receipt_delay=0.05)) as sim:
        receiver = None
        if bind == "transmitter":
            # Receipts for a TX bind go to a receiving bind of the same system_id.
            receiver_task = asyncio.ensure_future(
                run_node_esme(
                    {
                        "port": sim.port,
                        "system_id": "smsgate",
                        "password": "sim",
                        "bind": "receiver",
                        "messages": [],
                        "expect_receipts": len(messages),
                    }
                )
            )
            while sim.counters.binds < 1:
                await asyncio.sleep(0.02)
            receiver = receiver_task
        lines = await run_node_esme(
            {
                "port": sim.port,
                "system_id": "smsgate",
                "password": "sim",
                "bind": bind,
                "window": 8,
                "messages": messages,
                "expect_receipts": 0 if receiver else len(messages),
            }
        )
        summary = lines[-1]
        assert summary["acked"] == len(messages) and summary["max_in_flight"] == 8
        if receiver is not None:
            rx_lines = await asyncio.wait_for(receiver, 30)
            lines = lines + rx_lines
        check_receipts(lines, messages)
        assert sim.counters.submits == len(messages)
        texts = sorted(decode_gsm7(p.short_message) for p in sim.counters.recent)
        assert texts == sorted(m["short_message"]["text"] for m in messages)
        assert all(p.data_coding == 0 for p in sim.counters.recent)


async def test_node_ucs2_text_arrives_intact() -> None:
    text = "Привіт, світе! 👋"
    messages = [message("380501230008", data_coding=8, short_message={"text": text})]
    async with running_simulator(SimulatorConfig(port=0, receipt_delay=0.01)) as sim:
        lines = await run_node_esme(
            {"port": sim.port, "system_id": "smsgate", "password": "sim", "messages": messages}
        )
        check_receipts(lines, messages)
        (submitted,) = sim.counters.recent
        assert submitted.data_coding == 8
        assert submitted.short_message.decode("utf-16-be") == text  # the surrogate pair too


async def test_node_multipart_udh_and_sar_parts_each_get_an_id_and_a_receipt() -> None:
    udh = [
        message(
            "380501110008",
            esm_class=0x40,
            short_message={"hex": (build_concat_udh(7, 3, seq) + f"part {seq}".encode()).hex()},
        )
        for seq in (1, 2, 3)
    ]
    sar = [
        message(
            "380502220008",
            short_message={"text": f"sar part {seq}"},
            sar_msg_ref_num=0x0102,
            sar_total_segments=2,
            sar_segment_seqnum=seq,
        )
        for seq in (1, 2)
    ]
    async with running_simulator(SimulatorConfig(port=0, receipt_delay=0.01)) as sim:
        lines = await run_node_esme(
            {
                "port": sim.port,
                "system_id": "smsgate",
                "password": "sim",
                "window": 5,
                "messages": udh + sar,
            }
        )
        check_receipts(lines, udh + sar)
        parts = set(sim.counters.parts)
        assert {("380501110008", 7, 3, s) for s in (1, 2, 3)} <= parts
        assert {("380502220008", 0x0102, 2, s) for s in (1, 2)} <= parts


async def test_node_receiver_collects_receipts_for_our_transmitter() -> None:
    async with running_simulator(SimulatorConfig(port=0, receipt_delay=0.0)) as sim:
        client = SmppClient("127.0.0.1", sim.port, "smsgate", "sim", "transmitter")
        await client.start()
        await client.wait_bound(5)
        ids = []
        for ending in ("0008", "0001", "0003"):
            response = await asyncio.wait_for(
                client.submit(
                    SubmitSm(destination_addr="38050123" + ending, registered_delivery=1)
                ),
                5,
            )
            ids.append(response.message_id)
        await asyncio.wait_for(client.close(), 5)
        lines = await run_node_esme(
            {
                "port": sim.port,
                "system_id": "smsgate",
                "password": "sim",
                "bind": "receiver",
                "messages": [],
                "expect_receipts": 3,
            }
        )
        got = {r["receipted_message_id"]: r["message_state"] for r in by_event(lines, "deliver_sm")}
        assert got == {
            ids[0]: MessageState.DELIVERED,
            ids[1]: MessageState.UNDELIVERABLE,
            ids[2]: MessageState.REJECTED,
        }


async def test_node_bind_with_a_wrong_password_is_refused() -> None:
    async with running_simulator(SimulatorConfig(port=0)) as sim:
        lines = await run_node_esme(
            {"port": sim.port, "system_id": "smsgate", "password": "bad", "messages": []}
        )
        assert lines[-1]["bind_status"] == 0x0E  # ESME_RINVPASWD
        assert sim.counters.bind_failures == 1


def test_the_node_scripts_are_where_the_tests_expect(node_smpp: Path) -> None:
    assert (node_smpp / "esme.js").is_file() and (node_smpp / "operator.js").is_file()
