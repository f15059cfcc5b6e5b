"""The simulator's inbound SMS (MO): built as a phone's operator sends them (one deliver_sm,
or concatenated parts), held until the gateway binds to receive, sent on request over the
control surface or `smsgate simulator send-mo`, and as the magic reply number's answer."""

from __future__ import annotations

import asyncio
import json

import pytest
from simulator.test_handler import T, esme, simulator, submit, until
from typer.testing import CliRunner

from smsgate.gateway.inbound_assembly import Reassembly
from smsgate.simulator.cli import app
from smsgate.simulator.control import control_server
from smsgate.simulator.mobile import MAX_MO_PARTS, mo_pdus
from smsgate.smpp.constants import DC_UCS2, ESM_DELIVERY_RECEIPT, ESM_UDHI
from smsgate.smpp.inbound_part import inbound_part

PHONE = "380501112233"


def _joined(pdus: list) -> str:  # type: ignore[type-arg]
    assembly = Reassembly()
    ready = []
    for pdu in pdus:
        part = inbound_part(pdu)
        assert part is not None
        ready += assembly.add(part, 0.0)
    [message] = ready
    assert message.complete
    return message.text


def test_a_short_text_is_one_deliver_sm_and_a_long_one_concatenated_parts() -> None:
    [one] = mo_pdus("+" + PHONE, "7000", "Hello", 1)
    assert (one.source_addr, one.destination_addr, one.esm_class) == (PHONE, "7000", 0)
    text = "Привіт! " * 30  # UCS-2, 240 characters: 4 parts of 67
    parts = mo_pdus(PHONE, "7000", text, 2)
    assert len(parts) == 4
    assert all(p.esm_class & ESM_UDHI and p.data_coding == DC_UCS2 for p in parts)
    assert _joined(parts) == text
    assert _joined(mo_pdus(PHONE, "7000", "x" * 400, 3)) == "x" * 400


def test_empty_or_too_long_texts_are_refused() -> None:
    with pytest.raises(ValueError):
        mo_pdus(PHONE, "7000", "", 1)
    with pytest.raises(ValueError, match="parts"):
        mo_pdus(PHONE, "7000", "x" * 153 * (MAX_MO_PARTS + 1), 1)


async def test_an_mo_waits_for_a_receiving_bind_then_arrives() -> None:
    async with simulator() as sim:
        assert sim.handler.send_mo(PHONE, "7000", "y" * 200) == 2
        async with esme(sim) as (client, delivered):
            await client.wait_bound(T)
            await until(lambda: len(delivered) == 2)
            assert _joined(delivered) == "y" * 200
            assert sim.counters.mo_sent == 2 and sim.counters.receipts_sent == 0


async def test_the_reply_number_answers_a_message_with_an_mo() -> None:
    async with simulator() as sim, esme(sim) as (client, delivered):
        await client.wait_bound(T)
        r = await asyncio.wait_for(client.submit(submit("380501230099", 0)), T)
        assert r.command_status == 0
        await until(lambda: any(not p.esm_class & ESM_DELIVERY_RECEIPT for p in delivered))
        [reply] = [p for p in delivered if not p.esm_class & ESM_DELIVERY_RECEIPT]
        assert (reply.source_addr, reply.destination_addr) == ("380501230099", "SMSGATE")
        assert b"hello world" in reply.short_message


async def test_post_mo_and_send_mo_send_an_inbound_sms() -> None:
    async with simulator() as sim, control_server(sim, "127.0.0.1", 0) as control:
        port = control.sockets[0].getsockname()[1]
        async with esme(sim) as (client, delivered):
            await client.wait_bound(T)
            result = await asyncio.to_thread(
                CliRunner().invoke,
                app,
                [
                    "send-mo",
                    PHONE,
                    "7000",
                    "Hi from a phone",
                    "--control",
                    f"http://127.0.0.1:{port}",
                ],
            )
            assert result.exit_code == 0, result.output
            assert "in 1 part(s)" in result.output
            await until(lambda: len(delivered) == 1)
            assert delivered[0].short_message == b"Hi from a phone"
            bad = await asyncio.to_thread(
                CliRunner().invoke,
                app,
                [
                    "send-mo",
                    PHONE,
                    "7000",
                    "x",
                    "--control",
                    f"http://127.0.0.1:{port}",
                    "--system-id",
                    "nobody",
                ],
            )
            assert bad.exit_code == 1 and "unknown system_id" in bad.output

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /mo HTTP/1.0\r\nContent-Length: 7\r\n\r\nfrom=1&")
        raw = await asyncio.wait_for(reader.read(), T)
        writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        assert b" 400 " in head and "to, text" in json.loads(body)["error"]
