"""A scheduled send on real sockets: accepted by one node, which stops before its time; a new
node on the same database sends it when due — not before, and within a second or so after —
and the simulator delivers it. Cancelling another scheduled one gives its money back."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from smsgate.config import demo_settings, load_settings
from smsgate.gateway.demo_account import ensure_demo_account
from smsgate.node import Node

from .test_json_end_to_end import free_port


async def test_a_scheduled_send_survives_a_restart_and_goes_when_due(tmp_path: Path) -> None:
    def settings() -> object:
        return demo_settings(
            load_settings(
                None,
                database={"url": f"sqlite+aiosqlite:///{tmp_path}/sched.db"},
                http={"host": "127.0.0.1", "port": free_port()},
                smpp={"enabled": False},
                simulator={"port": free_port(), "receipt_delay": 0.05},
            )
        )

    first = Node(settings())  # type: ignore[arg-type]
    await asyncio.wait_for(first.start(), 20)
    creds = await ensure_demo_account(first.store, tmp_path / "demo.json")
    headers = {"Authorization": f"Bearer {creds.token}"}
    send_at = time.time() + 3.0
    body = {
        "sender": creds.sender,
        "to": ["380501230000"],
        "text": "later",
        "send_at": datetime.fromtimestamp(send_at, UTC).isoformat(),
    }
    base = f"http://127.0.0.1:{first.addresses.http_port}"
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
        sent = await client.post("/api/v1/messages", json=body)
        assert sent.status_code == 201, sent.text
        message_id = sent.json()["messages"][0]["id"]
        cancelled = await client.post(
            "/api/v1/messages", json={**body, "to": ["380501230005"], "text": "never"}
        )
        before = (await client.get("/api/v1/balance")).json()["balance"]
        other = cancelled.json()["messages"][0]["id"]
        assert (await client.delete(f"/api/v1/messages/{other}")).status_code == 200
        after = (await client.get("/api/v1/balance")).json()["balance"]
        assert float(after) > float(before)
    await asyncio.wait_for(first.stop(), 20)

    second = Node(settings())  # type: ignore[arg-type]
    await asyncio.wait_for(second.start(), 20)
    try:
        base = f"http://127.0.0.1:{second.addresses.http_port}"
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
            deadline = time.monotonic() + 20
            while True:
                shown = (await client.get(f"/api/v1/messages/{message_id}")).json()
                if shown["status"] == "DELIVRD" or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert shown["status"] == "DELIVRD", shown
            submitted = datetime.fromisoformat(shown["parts"][0]["submitted_at"]).timestamp()
            # Not before its time; within a second of it, with slack for a loaded machine.
            assert send_at <= submitted < send_at + 2.5, (send_at, submitted)
            never = (await client.get(f"/api/v1/messages/{other}")).json()
            assert never["status"] == "REJECTD" and never["parts"][0]["operator_id"] is None
    finally:
        await asyncio.wait_for(second.stop(), 20)
