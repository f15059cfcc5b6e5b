"""A node stops in the order its parts depend on each other: nothing that reaches the store
(a lease round, the dispatcher's claims, a request) is still running when the store closes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from smsgate.config import Settings, demo_settings, load_settings
from smsgate.gateway.demo_account import ensure_demo_account
from smsgate.node import Node
from smsgate.store.sql_store import SqlStore


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_every_task_has_ended_when_the_store_closes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/stop.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": False},
            simulator={"port": free_port()},
            # Lease rounds every 20 ms: one is as good as sure to be due while the node stops.
            node={"lease_ttl": 0.3, "connector_lease_ttl": 0.06},
        )
    )
    node = Node(settings)
    running_at_close: list[int] = []
    close = SqlStore.close

    async def watched_close(store: SqlStore) -> None:
        running_at_close.append(sum(not t.done() for t in node._tasks))
        await close(store)

    monkeypatch.setattr(SqlStore, "close", watched_close)
    await asyncio.wait_for(node.start(), 20)
    await asyncio.sleep(0.1)  # a few lease rounds and dispatcher claims
    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(node.stop(), 20)
    assert running_at_close == [0]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "not open" not in caplog.text


def _settings(tmp_path: Path, drain_timeout: float, ready_grace: float = 0.0) -> Settings:
    return demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/drain.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": False},
            simulator={"port": free_port()},
            node={"drain_timeout": drain_timeout, "ready_grace": ready_grace},
        )
    )


async def test_during_the_ready_grace_health_ready_is_503_and_sends_are_still_taken(
    tmp_path: Path,
) -> None:
    node = Node(_settings(tmp_path, drain_timeout=5, ready_grace=1.5))
    await asyncio.wait_for(node.start(), 20)
    creds = await ensure_demo_account(node.store, tmp_path / "demo.json")
    base = f"http://127.0.0.1:{node.addresses.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        assert (await client.get("/health/ready")).status_code == 200
        stopping = asyncio.ensure_future(node.stop())
        await asyncio.sleep(0.2)
        ready = await client.get("/health/ready")
        assert ready.status_code == 503 and "draining" in ready.text
        sent = await client.post(
            "/sms/send",
            headers={"Authorization": f"Bearer {creds.token}"},
            json={"phone": ["380501234567"], "message": "still taken", "src_addr": creds.sender},
        )
        assert sent.status_code == 200 and sent.json()["success_request"]["info"], sent.text
        assert not stopping.done()
        await asyncio.wait_for(stopping, 20)
    with pytest.raises(httpx.ConnectError):  # after the grace and the drain: closed
        async with httpx.AsyncClient(base_url=base, timeout=2) as client:
            await client.get("/health/live")


async def test_a_node_that_lost_a_lease_stops_without_the_ready_grace(tmp_path: Path) -> None:
    node = Node(_settings(tmp_path, drain_timeout=5, ready_grace=30))
    await asyncio.wait_for(node.start(), 20)
    stopping = asyncio.ensure_future(node.stop())
    await asyncio.sleep(0.2)
    assert not stopping.done()  # in its grace
    node.lost.set()  # another node may hold its id now: no more requests under it
    await asyncio.wait_for(stopping, 10)


async def test_a_request_in_flight_when_the_node_stops_is_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = asyncio.Event()

    async def slow_ready(self: Node) -> dict[str, object]:
        started.set()
        await asyncio.sleep(0.5)
        return {"ready": True}

    monkeypatch.setattr(Node, "ready", slow_ready)
    node = Node(_settings(tmp_path, drain_timeout=10))
    await asyncio.wait_for(node.start(), 20)
    base = f"http://127.0.0.1:{node.addresses.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        request = asyncio.ensure_future(client.get("/health/ready"))
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.wait_for(node.stop(), 20)
        r = await request
    assert (r.status_code, r.json()) == (200, {"ready": True})
    assert node.draining


async def test_draining_is_bounded_by_drain_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = asyncio.Event()

    async def stuck_ready(self: Node) -> dict[str, object]:
        started.set()
        await asyncio.sleep(3600)
        return {"ready": True}

    monkeypatch.setattr(Node, "ready", stuck_ready)
    node = Node(_settings(tmp_path, drain_timeout=0.5))
    await asyncio.wait_for(node.start(), 20)
    base = f"http://127.0.0.1:{node.addresses.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        request = asyncio.ensure_future(client.get("/health/ready"))
        await asyncio.wait_for(started.wait(), 10)
        began = asyncio.get_running_loop().time()
        await asyncio.wait_for(node.stop(), 20)
        took = asyncio.get_running_loop().time() - began
        request.cancel()
    assert took < 5, took  # half a second of draining, then the rest of the stop


async def test_a_node_stopped_with_sigterm_under_load_logs_no_store_error(tmp_path: Path) -> None:
    """The issue's case: `smsgate serve` sent SIGTERM while customers send and the dispatcher,
    receipts and lease rounds run. It stops by itself, and its log holds no traceback (a lease
    round or a request reaching a closed store logged `StoreError: the store is not open`)."""
    http_port = free_port()
    config = tmp_path / "smsgate.toml"
    config.write_text(
        f"""
[database]
url = "sqlite+aiosqlite:///{tmp_path}/sigterm.db"
[http]
port = {http_port}
[smpp]
enabled = false
[simulator]
port = {free_port()}
[node]
lease_ttl = 0.3
connector_lease_ttl = 0.06
"""
    )
    log = tmp_path / "node.log"
    smsgate = str(Path(sys.executable).parent / "smsgate")
    proc = subprocess.Popen(
        [smsgate, "serve", "--demo", "--config", str(config)],
        cwd=tmp_path,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    creds = tmp_path / "demo-credentials.json"
    answered = 0
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=10) as c:
            deadline = time.monotonic() + 40
            while True:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the node did not come up"
                with contextlib.suppress(httpx.TransportError):
                    if (await c.get("/health")).status_code == 200 and creds.exists():
                        break
                await asyncio.sleep(0.1)
            saved = json.loads(creds.read_text())
            headers = {"Authorization": f"Bearer {saved['token']}"}
            body = {"phone": ["380501230000"], "src_addr": saved["sender"]}
            stopping = asyncio.Event()

            async def customer(n: int) -> None:
                nonlocal answered
                i = 0
                while not stopping.is_set():
                    i += 1
                    text = {**body, "message": f"load {n}-{i}"}
                    try:
                        r = await c.post("/sms/send", json=text, headers=headers)
                    except httpx.TransportError:
                        return  # the node closed its door
                    answered += r.status_code in (200, 503)

            customers = [asyncio.ensure_future(customer(n)) for n in range(4)]
            # Until messages flow through the dispatcher to the simulator and receipts come.
            while answered < 40 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(proc.wait, 30)
            stopping.set()
            await asyncio.gather(*customers)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    text = log.read_text(errors="replace")
    assert answered >= 40, text
    assert code == 0, text
    assert "Traceback" not in text and "not open" not in text, text
    assert '"level":"error"' not in text and '"level":"critical"' not in text, text
    # The operator sees the drain begin and end.
    events = [json.loads(line).get("event") for line in text.splitlines() if line.startswith("{")]
    assert events.index("node_draining") < events.index("node_stopped"), text
