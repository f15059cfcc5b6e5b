"""What issue 22 saw, as a user of `make run` sees it: `smsgate serve --demo` (its simulator
the operator, its own receipt watch settings), a message sent through the JSON door with
"lifetime": 1 to the simulator's …0007, which the operator accepts and never reports. It must
read EXPIRED about a minute later, charged like an EXPIRED receipt; before the receipt watch it
stayed ENROUTE forever. The test waits out the real minute (the node idles meanwhile)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from smsgate.domain.money import format_money
from smsgate.gateway.demo_account import DEMO_PRICE, DEMO_TOP_UP

from .demo_node import demo_node, ready

SILENT = "380501230007"  # accepted by the simulator, never reported
DELIVERED = "380501230008"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    with demo_node(tmp_path) as port:
        yield port, tmp_path


async def test_a_message_never_reported_reads_expired_a_minute_after_lifetime_1(
    demo: tuple[int, Path],
) -> None:
    port, workdir = demo
    token = await ready(port, workdir)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10
    ) as client:
        sent = time.monotonic()
        r = await client.post(
            "/sms/send",
            json={
                "phone": [SILENT, DELIVERED],
                "message": "lifetime one minute",
                "src_addr": "smsgate",
                "lifetime": 1,
            },
        )
        assert r.status_code == 200, r.text
        ids = {phone: id_ for id_, phone in r.json()["success_request"]["info"].items()}
        assert set(ids) == {SILENT, DELIVERED}, r.text

        seen: dict[str, str] = {}
        expired_after: float | None = None
        # The lifetime (60 s), the watch's grace (5 s) and one of its rounds (5 s), with room
        # for a loaded machine.
        while time.monotonic() - sent < 150:
            r = await client.post("/sms/status", json={"id_sms": list(ids.values())})
            seen = r.json()["success_request"]["info"]
            if seen.get(ids[SILENT]) != "ENROUTE":
                expired_after = time.monotonic() - sent
                break
            await asyncio.sleep(1.0)
        assert seen == {ids[SILENT]: "EXPIRED", ids[DELIVERED]: "DELIVRD"}, (seen, expired_after)
        assert expired_after is not None and expired_after >= 60.0, expired_after

        # The operator took both parts: both stay charged, as after an EXPIRED receipt.
        r = await client.post("/sms/balance")
        money = r.json()["success_request"]["info"]["money"]
        assert money == format_money(DEMO_TOP_UP - 2 * DEMO_PRICE), r.text
