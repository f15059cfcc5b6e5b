"""A node's metrics on its admin listener ([metrics] port, never the public port), behind its
token: per-connector submits and receipts, and the journey histograms (time to operator, time
to receipt) filled by real traffic through the simulator, and the outbox's depth by kind."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from smsgate.config import demo_settings, load_settings
from smsgate.gateway.demo_account import ensure_demo_account
from smsgate.node import Node


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _values(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_submits_receipts_and_journey_times_are_counted_per_connector(
    tmp_path: Path,
) -> None:
    settings = demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/metrics.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": False},
            simulator={"port": free_port(), "receipt_delay": 0.05},
            metrics={"port": 0, "token": "scrape-token"},
        )
    )
    node = Node(settings)
    await asyncio.wait_for(node.start(), 20)
    try:
        creds = await ensure_demo_account(node.store, tmp_path / "demo.json")
        connector = node.connectors[0].name
        base = f"http://127.0.0.1:{node.addresses.http_port}"
        admin = f"http://127.0.0.1:{node.addresses.metrics_port}/metrics"
        auth = {"Authorization": "Bearer scrape-token"}
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.get(admin)).status_code == 401
            r = await client.post(
                f"{base}/sms/send",
                headers={"Authorization": f"Bearer {creds.token}"},
                json={"phone": ["380501230000"], "message": "Hi", "src_addr": creds.sender},
            )
            assert r.status_code == 200, r.text
            receipts = ("smsgate_receipts_total", frozenset({("connector", connector),
                                                             ("state", "DELIVRD")}))  # fmt: skip
            deadline = asyncio.get_running_loop().time() + 20
            while True:
                r = await client.get(admin, headers=auth)
                assert r.status_code == 200
                values = _values(r.text)
                if values.get(receipts, 0) >= 1 or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.1)
    finally:
        await asyncio.wait_for(node.stop(), 20)
    # At least: the registry is the process's, and other tests may have run a "simulator" too.
    by_connector = frozenset({("connector", connector)})
    assert values[receipts] >= 1
    assert values[("smsgate_parts_submitted_total", by_connector)] >= 1
    assert values[("smsgate_time_to_operator_seconds_count", by_connector)] >= 1
    assert values[("smsgate_time_to_receipt_seconds_count", by_connector)] >= 1
    assert values[("smsgate_time_to_receipt_seconds_sum", by_connector)] > 0
    # The outbox's backlog is read from the store while metrics are served, every kind shown.
    for kind in ("receipts", "inbound", "callbacks", "webhooks"):
        assert ("smsgate_outbox_depth", frozenset({("kind", kind)})) in values
