"""smpplib 2.2.4 (sync, in-process) against our simulator in a thread: GSM-7, UCS-2 with UDH
parts, SAR parts, and a receipt with the right id and state for every part.

smpplib is not thread-safe while it listens and its unbind() can hang, so one thread drives it
with read_once() under a short socket timeout and a deadline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.gsm

from smsgate.simulator import SimulatorConfig, SimulatorThread
from smsgate.smpp.constants import MessageState


class Esme:
    def __init__(self, port: int, bind: str = "transceiver") -> None:
        self.sent: list[Any] = []
        self.received: list[Any] = []
        # A generous timeout for the bind's answer (a loaded machine may take over half a
        # second to give the simulator's thread its turn), a short one for the polls after it.
        self.client = smpplib.client.Client(
            "127.0.0.1", port, timeout=30, allow_unknown_opt_params=True
        )
        self.client.set_message_sent_handler(lambda pdu: self.sent.append(pdu))
        self.client.set_message_received_handler(self._received)
        self.client.connect()
        getattr(self.client, f"bind_{bind}")(system_id="smsgate", password="sim")
        self.client._socket.settimeout(0.5)  # smpplib has no setter once connected

    def _received(self, pdu: Any = None) -> int:
        self.received.append(pdu)
        return 0

    def pump_until(self, done: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out: {len(self.sent)} responses, {len(self.received)} receipts"
                )
            with suppress(TimeoutError):
                self.client.read_once(auto_send_enquire_link=False)

    def close(self) -> None:
        with suppress(Exception):  # a hung or refused unbind must not fail the test
            self.client.unbind()
        self.client.disconnect()


@contextmanager
def esme(sim: SimulatorThread, bind: str = "transceiver") -> Iterator[Esme]:
    e = Esme(sim.port, bind)
    try:
        yield e
    finally:
        e.close()


def send(e: Esme, destination: str, part: bytes, coding: int, esm_class: int, **tlvs: Any) -> None:
    e.client.send_message(
        source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
        source_addr="SMSGATE",
        dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
        destination_addr=destination,
        short_message=part,
        data_coding=coding,
        esm_class=esm_class,
        registered_delivery=True,
        **tlvs,
    )


def ids_and_states(e: Esme) -> tuple[set[str], dict[str, int]]:
    ids = {p.message_id.decode() for p in e.sent if p.status == 0}
    states = {p.receipted_message_id.decode(): p.message_state for p in e.received}
    return ids, states


def test_gsm7_messages_each_get_a_receipt_with_their_state() -> None:
    with SimulatorThread(SimulatorConfig(port=0, receipt_delay=0.01)) as sim, esme(sim) as e:
        destinations = ["380501230008", "380501230001", "380501230002", "380501230003"] * 3
        for dest in destinations:
            parts, coding, esm_class = smpplib.gsm.make_parts("Hello from smpplib")
            send(e, dest, parts[0], coding, esm_class)
        e.pump_until(lambda: len(e.sent) == 12 and len(e.received) == 12)
        ids, states = ids_and_states(e)
        assert set(states) == ids and len(ids) == 12
        assert sorted(states.values()).count(MessageState.DELIVERED) == 3
        assert sorted(states.values()).count(MessageState.UNDELIVERABLE) == 3
        assert all(p.esm_class == 0x04 for p in e.received)
        assert sim.counters.receipts_sent == 12


def test_long_ucs2_message_in_udh_parts_gets_a_receipt_per_part() -> None:
    text = "Довге повідомлення українською, щоб не влізти в один сегмент UCS-2. " * 2
    with SimulatorThread(SimulatorConfig(port=0, receipt_delay=0.01)) as sim, esme(sim) as e:
        parts, coding, esm_class = smpplib.gsm.make_parts(text)
        assert coding == smpplib.consts.SMPP_ENCODING_ISO10646 and len(parts) >= 2
        for part in parts:
            send(e, "380509990008", part, coding, esm_class)
        e.pump_until(lambda: len(e.received) == len(parts))
        ids, states = ids_and_states(e)
        assert set(states) == ids and len(ids) == len(parts)
        seen = {k[3] for k in sim.counters.parts if k[0] == "380509990008"}
        assert seen == set(range(1, len(parts) + 1))
        body = b"".join(p.short_message[6:] for p in sim.counters.recent)
        assert body.decode("utf-16-be") == text


def test_sar_parts_get_a_receipt_each() -> None:
    text = "x" * 300
    with SimulatorThread(SimulatorConfig(port=0, receipt_delay=0.01)) as sim, esme(sim) as e:
        parts, coding, esm_class = smpplib.gsm.make_parts(text, use_udhi=False)
        for seq, part in enumerate(parts, start=1):
            send(
                e,
                "380508880008",
                part,
                coding,
                esm_class,
                sar_msg_ref_num=77,
                sar_total_segments=len(parts),
                sar_segment_seqnum=seq,
            )
        e.pump_until(lambda: len(e.received) == len(parts))
        ids, states = ids_and_states(e)
        assert set(states) == ids and len(ids) == len(parts)
        assert {k for k in sim.counters.parts if k[0] == "380508880008"} == {
            ("380508880008", 77, len(parts), s) for s in range(1, len(parts) + 1)
        }


def test_receipts_of_a_transmitter_reach_a_receiver_bind() -> None:
    with (
        SimulatorThread(SimulatorConfig(port=0, receipt_delay=0.05)) as sim,
        esme(sim, "transmitter") as tx,
        esme(sim, "receiver") as rx,
    ):
        parts, coding, esm_class = smpplib.gsm.make_parts("to the receiver")
        send(tx, "380501230003", parts[0], coding, esm_class)
        tx.pump_until(lambda: len(tx.sent) == 1)
        rx.pump_until(lambda: len(rx.received) == 1)
        (receipt,) = rx.received
        assert receipt.receipted_message_id == tx.sent[0].message_id
        assert receipt.message_state == MessageState.REJECTED
