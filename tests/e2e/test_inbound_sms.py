"""Inbound SMS end to end: a real simulator sends MO (short, long as concatenated parts, one
with a part lost) to a real node, which joins, routes, stores and serves them on
GET /api/v1/inbound; STOP from a phone refuses the account's next send to it; the simulator's
reply number answers a sent message with an MO."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from smsgate.config import load_settings
from smsgate.gateway.demo_account import ensure_demo_account
from smsgate.gateway.inbound_assembly import Reassembly
from smsgate.node import Node
from smsgate.simulator import Simulator, SimulatorConfig, running_simulator
from smsgate.smpp.client import BindType, SmppClient
from smsgate.smpp.inbound_part import inbound_part
from smsgate.smpp.pdu import DataSm, DeliverSm
from smsgate.store.records import NumberRoute

from .test_json_end_to_end import free_port

T = 15.0
PHONE = "380501112233"
LONG = "Long inbound message: " + "abcdefghij" * 30  # 322 characters: 3 GSM-7 parts


@asynccontextmanager
async def inbound_node(
    tmp_path: Path, *, smpp: bool = False
) -> AsyncIterator[tuple[Node, Simulator, httpx.AsyncClient]]:
    async with running_simulator(SimulatorConfig(port=0, receipt_delay=0.05)) as sim:
        settings = load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/inbound.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": smpp, "host": "127.0.0.1", "port": free_port()},
            connectors=[
                {
                    "name": "op",
                    "host": "127.0.0.1",
                    "port": sim.port,
                    "system_id": "smsgate",
                    "password": "sim",
                }
            ],
            routes=[{"prefix": "", "connectors": ["op"]}],
            inbound={"reassembly_timeout": 0.5},
        )
        node = Node(settings)
        await asyncio.wait_for(node.start(), 20)
        try:
            creds = await ensure_demo_account(node.store, tmp_path / "demo.json")
            demo = await node.store.credentials("demo")
            assert demo is not None
            await node.store.add_number(NumberRoute("7000", demo.account.id))
            await node.store.add_originator(demo.account.id, "7000")
            base = f"http://127.0.0.1:{node.addresses.http_port}"
            headers = {"Authorization": f"Bearer {creds.token}"}
            node.demo = creds  # type: ignore[attr-defined]
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
                yield node, sim, client
        finally:
            await asyncio.wait_for(node.stop(), 20)


async def inbound(client: httpx.AsyncClient, count: int, after: int = 0) -> list[dict[str, object]]:
    """The account's inbound SMS once `count` are there."""
    async with asyncio.timeout(T):
        while True:
            r = await client.get("/api/v1/inbound", params={"after": after})
            assert r.status_code == 200, r.text
            found: list[dict[str, object]] = r.json()["data"]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)


async def test_short_long_and_incomplete_mo_reach_the_account(tmp_path: Path) -> None:
    async with inbound_node(tmp_path) as (_node, sim, client):
        assert sim.handler.send_mo(PHONE, "7000", "Hi there") == 1
        assert sim.handler.send_mo(PHONE, "7000", LONG) == 3
        assert sim.handler.send_mo(PHONE, "7000", LONG, lose={2}) == 3
        found = await inbound(client, 3)
        by_text = {(m["text"], m["complete"], m["parts"]) for m in found}
        assert ("Hi there", True, 1) in by_text
        assert (LONG, True, 3) in by_text
        lost = LONG[:153] + LONG[306:]  # parts 1 and 3 of 153 characters each
        assert (lost, False, 2) in by_text
        assert {m["from"] for m in found} == {PHONE} and {m["to"] for m in found} == {"7000"}
        last = max(int(str(m["id"])) for m in found)
        r = await client.get("/api/v1/inbound", params={"after": last})
        assert r.json() == {"data": [], "next_after": last}


async def test_an_mo_to_a_number_of_no_account_is_kept_for_the_admin(tmp_path: Path) -> None:
    async with inbound_node(tmp_path) as (node, sim, _client):
        sim.handler.send_mo(PHONE, "7999", "anyone?")
        async with asyncio.timeout(T):
            while not (lost := await node.store.unroutable(0, 10)):
                await asyncio.sleep(0.05)
        assert [(m.text, m.reason, m.connector) for m in lost] == [
            ("anyone?", "number 7999 belongs to no account", "op")
        ]


@pytest.mark.parametrize(
    ("stop", "start"), [("STOP", "start"), ("СТОП", "Старт"), ("UNSUBSCRIBE", "START")]
)
async def test_stop_refuses_the_next_send_and_start_allows_it(
    tmp_path: Path, stop: str, start: str
) -> None:
    # СТОП and Старт come from the phone as UCS-2, the others as GSM-7.
    async with inbound_node(tmp_path) as (_node, sim, client):
        send = {"phone": [PHONE], "message": "Sale today", "src_addr": "7000"}
        sim.handler.send_mo(PHONE, "7000", stop)
        await inbound(client, 1)
        r = await client.post("/sms/send", json=send)
        assert r.json()["success_request"]["add_info"] == {PHONE: "Recipient opted out"}
        sim.handler.send_mo(PHONE, "7000", start)
        await inbound(client, 2)
        r = await client.post("/sms/send", json={**send, "message": "Sale tomorrow"})
        assert list(r.json()["success_request"]["info"].values()) == [PHONE]


async def test_the_reply_number_answers_with_an_mo(tmp_path: Path) -> None:
    async with inbound_node(tmp_path) as (_node, _sim, client):
        replier = "380501230099"
        r = await client.post(
            "/sms/send", json={"phone": [replier], "message": "Ping", "src_addr": "7000"}
        )
        assert r.status_code == 200 and r.json()["success_request"]["info"], r.text
        [reply] = await inbound(client, 1)
        assert reply["from"] == replier and reply["to"] == "7000"
        assert "Ping" in str(reply["text"])


async def test_an_mo_waits_for_the_customers_receiving_bind_and_arrives_whole(
    tmp_path: Path,
) -> None:
    async with inbound_node(tmp_path, smpp=True) as (node, sim, client):
        sim.handler.send_mo(PHONE, "7000", LONG)
        sim.handler.send_mo(PHONE, "7000", "and a short one")
        await inbound(client, 2)  # stored while the customer has no bind
        delivered: list[DeliverSm | DataSm] = []

        def on_deliver(pdu: DeliverSm | DataSm) -> int:
            delivered.append(pdu)
            return 0

        assert node.addresses.smpp_port is not None
        customer = SmppClient(
            "127.0.0.1",
            node.addresses.smpp_port,
            "demo",
            node.demo.smpp_password,  # type: ignore[attr-defined]
            BindType.RECEIVER,
            reconnect=False,
            on_deliver=on_deliver,
            response_timeout=T,
        )
        await customer.start()
        try:
            await customer.wait_bound(T)
            async with asyncio.timeout(T):
                while len(delivered) < 4:  # 3 parts and 1
                    await asyncio.sleep(0.02)
        finally:
            await asyncio.wait_for(customer.close(1.0), T)
        assembly = Reassembly()
        texts = []
        for pdu in delivered:
            assert (pdu.source_addr, pdu.destination_addr) == (PHONE, "7000")
            part = inbound_part(pdu)
            assert part is not None
            texts += [m.text for m in assembly.add(part, 0.0)]
        assert texts == [LONG, "and a short one"]
