"""A real node and simulator: a part the operator took and never reported ends EXPIRED at its
lifetime's end, charged, with the customer told by an SMPP receipt; and an operator that
answers query_sm ends an overdue part before its receipt comes. Lifetimes here are seconds
(the SMPP door's relative validity_period) so the test takes seconds, not minutes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from smsgate.config import demo_settings, load_settings
from smsgate.gateway.demo_account import DEMO_PRICE, DEMO_TOP_UP, ensure_demo_account
from smsgate.node import Node
from smsgate.smpp.client import SmppClient
from smsgate.smpp.constants import ESM_DELIVERY_RECEIPT, ESM_TYPE_MASK
from smsgate.smpp.pdu import DataSm, DeliverSm, SubmitSm, SubmitSmResp
from smsgate.smpp.receipt import parse_receipt

from .test_json_end_to_end import free_port, wait_final

T = 20.0


@asynccontextmanager
async def demo_node(
    tmp_path: Path, *, receipt_delay: float, query_after: float | None
) -> AsyncIterator[tuple[Node, httpx.AsyncClient, SmppClient, list[DeliverSm | DataSm]]]:
    """The demo node with its simulator, a fast receipt watch, the SMPP door, and a bound
    customer ESME whose received receipts land in the list yielded."""
    settings = demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/final.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": True, "host": "127.0.0.1", "port": free_port()},
            simulator={"port": free_port(), "receipt_delay": receipt_delay},
            dispatch={"receipt_watch_every": 0.2, "receipt_grace": 0.5},
        )
    )
    connector = settings.connectors[0].model_copy(update={"query_after": query_after})
    settings = settings.model_copy(update={"connectors": [connector]})
    node = Node(settings)
    await asyncio.wait_for(node.start(), T)
    received: list[DeliverSm | DataSm] = []

    def on_deliver(pdu: DeliverSm | DataSm) -> int:
        received.append(pdu)
        return 0

    try:
        creds = await ensure_demo_account(node.store, tmp_path / "demo.json")
        assert node.addresses.smpp_port is not None
        esme = SmppClient(
            "127.0.0.1", node.addresses.smpp_port, "demo", creds.smpp_password,
            on_deliver=on_deliver,
        )  # fmt: skip
        await esme.start()
        try:
            await esme.wait_bound(T)
            base = f"http://127.0.0.1:{node.addresses.http_port}"
            headers = {"Authorization": f"Bearer {creds.token}"}
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
                yield node, http, esme, received
        finally:
            await asyncio.wait_for(esme.close(), T)
    finally:
        await asyncio.wait_for(node.stop(), T)


async def submit(esme: SmppClient, phone: str, validity: str = "") -> str:
    answer = await asyncio.wait_for(
        esme.submit(
            SubmitSm(
                source_addr="smsgate",
                destination_addr=phone,
                short_message=b"final status",
                registered_delivery=1,
                validity_period=validity,
            )
        ),
        T,
    )
    assert isinstance(answer, SubmitSmResp) and answer.command_status == 0, answer
    return answer.message_id


async def receipt_stat(received: list[DeliverSm | DataSm], message_id: str) -> str:
    deadline = asyncio.get_running_loop().time() + T
    while True:
        for pdu in received:
            if isinstance(pdu, DeliverSm) and pdu.esm_class & ESM_TYPE_MASK == ESM_DELIVERY_RECEIPT:
                receipt = parse_receipt(pdu.short_message)
                if receipt.id == message_id:
                    return receipt.stat
        assert asyncio.get_running_loop().time() < deadline, f"no receipt for {message_id}"
        await asyncio.sleep(0.05)


async def test_a_part_never_reported_expires_at_its_lifetime_and_the_customer_is_told(
    tmp_path: Path,
) -> None:
    # The operator takes …0007 and never reports it, nor answers query_sm with a final state.
    async with demo_node(tmp_path, receipt_delay=0.05, query_after=0.3) as (
        node,
        http,
        esme,
        received,
    ):
        started = asyncio.get_running_loop().time()
        silent = await submit(esme, "380501230007", validity="000000000003000R")  # 3 s
        delivered = await submit(esme, "380501230008", validity="000000000003000R")
        assert await receipt_stat(received, delivered) == "DELIVRD"
        assert await receipt_stat(received, silent) == "EXPIRED"
        took = asyncio.get_running_loop().time() - started
        assert 3.0 <= took < 3.0 + 0.5 + 5, took  # lifetime, grace, a few watch rounds
        assert await wait_final(http, [silent, delivered], 1) == {
            silent: "EXPIRED",
            delivered: "DELIVRD",
        }
        demo = await node.store.credentials("demo")
        assert demo is not None
        balance = await node.store.balance(demo.account.id)
        # The operator took both: both charged, as an EXPIRED receipt would leave it.
        assert (balance.reserved, balance.charged) == (0, 2 * DEMO_PRICE)
        assert balance.balance + balance.reserved + balance.charged == DEMO_TOP_UP


async def test_an_overdue_receipt_is_asked_for_with_query_sm(tmp_path: Path) -> None:
    # Receipts take a minute; the operator answers query_sm with the outcome at once.
    async with demo_node(tmp_path, receipt_delay=60, query_after=0.3) as (
        _node,
        http,
        esme,
        received,
    ):
        ids = [await submit(esme, phone) for phone in ("380501230008", "380501230001")]
        assert await wait_final(http, ids, 10) == {ids[0]: "DELIVRD", ids[1]: "UNDELIV"}
        assert await receipt_stat(received, ids[0]) == "DELIVRD"
        assert await receipt_stat(received, ids[1]) == "UNDELIV"


async def test_at_its_lifetimes_end_a_part_is_asked_again_before_it_ends_expired(
    tmp_path: Path,
) -> None:
    # Receipts a minute away and the first query_sm further still: the one question is the
    # one at the lifetime's end (3 s). The operator knows …0008 was delivered: DELIVRD, not
    # EXPIRED; …0007 it never reports: EXPIRED.
    async with demo_node(tmp_path, receipt_delay=60, query_after=600) as (
        _node,
        http,
        esme,
        received,
    ):
        delivered = await submit(esme, "380501230008", validity="000000000003000R")
        silent = await submit(esme, "380501230007", validity="000000000003000R")
        assert await receipt_stat(received, delivered) == "DELIVRD"
        assert await receipt_stat(received, silent) == "EXPIRED"
        assert await wait_final(http, [delivered, silent], 1) == {
            delivered: "DELIVRD",
            silent: "EXPIRED",
        }
