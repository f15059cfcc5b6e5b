"""node smpp 0.5.1 as a customer of the SMPP door, on a whole node (dispatcher and simulator
behind it): GSM-7, UCS-2 and UDH long messages, each with a receipt naming its id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from node_peer import run_node_esme

from smsgate.gateway.demo_account import DemoCredentials
from smsgate.smpp.constants import MessageState

if TYPE_CHECKING:
    from conftest import DoorNode

pytestmark = pytest.mark.usefixtures("node_smpp")


def events(lines: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["event"] == name]


async def test_node_customer_gets_ids_and_a_receipt_for_each(
    door: tuple[DoorNode, DemoCredentials],
) -> None:
    d, creds = door
    base = {"source_addr": creds.sender, "source_addr_ton": 5, "registered_delivery": 1}
    messages = [
        {
            **base,
            "destination_addr": "380501230000",
            "data_coding": 0,
            "short_message": {"text": "hello @ node"},
        },
        {
            **base,
            "destination_addr": "380501230001",
            "data_coding": 8,
            "short_message": {"hex": "Привіт".encode("utf-16-be").hex()},
        },
        # A long message in two UDH parts (ref 0x42); only the first part asks for a receipt.
        {
            **base,
            "destination_addr": "380501239999",
            "esm_class": 0x40,
            "data_coding": 0,
            "short_message": {"udh_hex": "0500034202 01".replace(" ", ""), "text": "a" * 150},
        },
        {
            **base,
            "destination_addr": "380501239999",
            "esm_class": 0x40,
            "data_coding": 0,
            "registered_delivery": 0,
            "short_message": {"udh_hex": "0500034202 02".replace(" ", ""), "text": "b" * 20},
        },
    ]
    lines = await run_node_esme(
        {
            "port": d.port,
            "system_id": creds.login,
            "password": creds.smpp_password,
            "bind": "transceiver",
            "window": 4,
            "messages": messages,
            "expect_receipts": 3,
            "timeout_ms": 20000,
        },
        timeout=40,
    )
    (bind,) = events(lines, "bind_resp")
    assert bind["command_status"] == 0
    responses = {r["index"]: r for r in events(lines, "submit_resp")}
    assert [responses[i]["command_status"] for i in range(4)] == [0, 0, 0, 0]
    ids = [responses[i]["message_id"] for i in range(4)]
    assert all(i.isdigit() for i in ids) and len(set(ids)) == 4
    receipts = {r["receipted_message_id"]: r for r in events(lines, "deliver_sm")}
    assert set(receipts) == {ids[0], ids[1], ids[2]}
    assert receipts[ids[0]]["message_state"] == MessageState.DELIVERED
    assert receipts[ids[1]]["message_state"] == MessageState.UNDELIVERABLE
    assert receipts[ids[2]]["message_state"] == MessageState.DELIVERED
    for r in receipts.values():
        assert r["esm_class"] == 0x04
        assert r["destination_addr"] == creds.sender
        assert f"id:{r['receipted_message_id']} " in r["text"]


async def test_node_customer_with_a_wrong_password_is_refused(
    door: tuple[DoorNode, DemoCredentials],
) -> None:
    d, creds = door
    lines = await run_node_esme(
        {"port": d.port, "system_id": creds.login, "password": "wrong", "messages": []},
        timeout=20,
    )
    assert events(lines, "bind_resp")[0]["command_status"] == 0x0E
