"""smpplib 2.2.4 as a customer of the SMPP door, on a whole node (dispatcher and simulator
behind it): GSM-7, UCS-2 long messages split by smpplib itself, and their receipts.

smpplib is synchronous: it runs in a worker thread with read_once() under a short socket
timeout and a deadline, while the node runs in the test's event loop."""

from __future__ import annotations

import asyncio
import socket
import time
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import smpplib.client
import smpplib.consts
import smpplib.gsm

from smsgate.gateway.demo_account import DemoCredentials
from smsgate.smpp.constants import MessageState

if TYPE_CHECKING:
    from conftest import DoorNode


def run_customer(
    port: int,
    creds: DemoCredentials,
    texts: list[tuple[str, str]],
    expected_receipts: int,
    *,
    one_at_a_time: bool = False,
) -> tuple[list[Any], list[Any], dict[int, int]]:
    """Bind, send every (phone, text) split as smpplib splits it, read until every receipt
    came. Returns (submit_sm_resp PDUs, deliver_sm PDUs, sequence number -> index of text).
    `one_at_a_time`: wait for each part's submit_sm_resp before sending the next (a window
    of one, as synchronous clients do), at most 3 s each."""
    sent: list[Any] = []
    received: list[Any] = []
    # smpplib reads every answer under one socket timeout. The bind's answer waits for a scrypt
    # check of the password (over half a second on a loaded machine: smpplib then gave up on a
    # bind that was answered); the reads after it only poll, so they get a short one.
    client = smpplib.client.Client("127.0.0.1", port, timeout=30, allow_unknown_opt_params=True)
    client.set_message_sent_handler(lambda pdu: sent.append(pdu))

    def on_deliver(pdu: Any = None) -> int:
        received.append(pdu)
        return 0

    client.set_message_received_handler(on_deliver)
    client.connect()
    sequences: dict[int, int] = {}
    try:
        client.bind_transceiver(system_id=creds.login, password=creds.smpp_password)
        client._socket.settimeout(0.5)  # smpplib has no setter once connected
        for index, (phone, text) in enumerate(texts):
            parts, coding, esm_class = smpplib.gsm.make_parts(text)
            for part in parts:
                pdu = client.send_message(
                    source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                    source_addr=creds.sender,
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                    destination_addr=phone,
                    short_message=part,
                    data_coding=coding,
                    esm_class=esm_class,
                    registered_delivery=True,
                )
                sequences[pdu.sequence] = index
                answered_by = time.monotonic() + 3
                while one_at_a_time and len(sent) < len(sequences):
                    if time.monotonic() > answered_by:
                        raise AssertionError(f"part {len(sequences)} got no answer in 3 s")
                    with suppress(TimeoutError, socket.timeout):
                        client.read_once(auto_send_enquire_link=False)
        deadline = time.monotonic() + 20
        while len(sent) < len(sequences) or len(received) < expected_receipts:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(sent)}/{len(sequences)} responses, {len(received)} receipts"
                )
            with suppress(TimeoutError, socket.timeout):
                client.read_once(auto_send_enquire_link=False)
    finally:
        with suppress(Exception):  # smpplib's unbind can hang or fail: never the test's point
            client.unbind()
        client.disconnect()
    return sent, received, sequences


async def test_smpplib_customer_sends_gsm7_and_ucs2_long_and_gets_every_receipt(
    door: tuple[DoorNode, DemoCredentials],
) -> None:
    d, creds = door
    texts = [
        ("380501230000", "Hello from smpplib"),
        ("380501230002", "Довге повідомлення українською " * 4),  # UCS-2, 2 parts
        ("380501239999", "long gsm text " * 20),  # GSM-7, 2 parts
    ]
    sent, received, sequences = await asyncio.wait_for(
        asyncio.to_thread(run_customer, d.port, creds, texts, 5), 40
    )
    assert sorted(sequences.values()) == [0, 1, 1, 2, 2]
    assert all(r.status == 0 for r in sent)
    ids = [r.message_id.decode() if isinstance(r.message_id, bytes) else r.message_id for r in sent]
    assert len(set(ids)) == 5
    states: dict[str, int] = {}
    for pdu in received:
        rid = pdu.receipted_message_id
        states[rid.decode() if isinstance(rid, bytes) else rid] = int(pdu.message_state)
    assert set(states) == set(ids)
    # The answer to the part that completes a message waits until it is sent on, so answers
    # may overtake one another.
    by_id = {i: sequences[r.sequence] for i, r in zip(ids, sent, strict=True)}
    for message_id, state in states.items():
        want = MessageState.EXPIRED if by_id[message_id] == 1 else MessageState.DELIVERED
        assert state == want


async def test_smpplib_customer_waiting_for_each_answer_sends_long_messages(
    door: tuple[DoorNode, DemoCredentials],
) -> None:
    """A window of one: every part must be answered before the next is sent, so no answer
    may wait for the rest of its message."""
    d, creds = door
    texts = [
        ("380501230010", "one part at a time, " * 12),  # GSM-7, 2 parts
        ("380501230011", "Частина за частиною, " * 8),  # UCS-2, 3 parts
    ]
    sent, received, sequences = await asyncio.wait_for(
        asyncio.to_thread(run_customer, d.port, creds, texts, 5, one_at_a_time=True), 40
    )
    assert sorted(sequences.values()) == [0, 0, 1, 1, 1]
    assert all(r.status == 0 for r in sent)
    ids = {r.message_id.decode() if isinstance(r.message_id, bytes) else r.message_id for r in sent}
    assert len(ids) == 5
    receipted = {
        rid.decode() if isinstance(rid := pdu.receipted_message_id, bytes) else rid
        for pdu in received
    }
    assert receipted == ids
    assert {int(pdu.message_state) for pdu in received} == {MessageState.DELIVERED}
