"""Callbacks are durable: a gateway whose callbacks are queued or on their way to a receiver
that holds them unanswered is killed with SIGKILL; after a restart every message's callback
reaches the receiver (at least once, with its own message id)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
from stopping import stop_node

from smsgate.simulator.config import SimulatorConfig
from smsgate.simulator.running import running_simulator

from .test_crash import start_gateway, wait_ready
from .test_json_end_to_end import free_port

MESSAGES = 20


class HoldingReceiver:
    """A real HTTP/1.1 receiver: while `holding` is set it reads each callback and never
    answers; otherwise it answers 200 and records the form."""

    def __init__(self) -> None:
        self.holding = asyncio.Event()
        self.held = 0
        self.forms: list[dict[str, str]] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                body = await reader.readexactly(length)
                if self.holding.is_set():
                    self.held += 1
                    await asyncio.sleep(3600)
                target = head.split(b" ", 2)[1].decode()
                query = target.partition("?")[2]
                form = parse_qsl(query) + parse_qsl(body.decode(), keep_blank_values=True)
                self.forms.append(dict(form))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def pending_callbacks(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox WHERE kind = 'callbacks' AND delivered_at IS NULL"
        ).fetchone()
    return int(row[0])


async def until(check: object, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError(f"not in {timeout} s: {what}")
        await asyncio.sleep(0.1)


async def test_sigkill_with_callbacks_pending_sends_them_after_restart(tmp_path: Path) -> None:
    receiver = HoldingReceiver()
    receiver.holding.set()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    sim_config = SimulatorConfig(port=0, receipt_delay=0.05)
    async with running_simulator(sim_config) as sim:
        http_port = free_port()
        db = tmp_path / "callbacks.db"
        config = tmp_path / "smsgate.toml"
        config.write_text(
            f"""
[database]
url = "sqlite+aiosqlite:///{db}"
[http]
port = {http_port}
[smpp]
enabled = false
[callbacks]
total_timeout = 600
[[connectors]]
name = "sim"
host = "127.0.0.1"
port = {sim.port}
system_id = "smsgate"
password = "sim"
"""
        )
        base = f"http://127.0.0.1:{http_port}"
        log = tmp_path / "gateway.log"
        creds_file = tmp_path / "demo-credentials.json"
        proc = start_gateway(config, log)
        try:
            token = await asyncio.wait_for(wait_ready(base, creds_file, proc), 40)
            hook = f"http://127.0.0.1:{receiver.port}/dlr?shop=7"
            accepted: dict[str, str] = {}
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                for n in range(MESSAGES):
                    # The HTTP gateway, as Kannel's clients call it (`--demo` allows loopback).
                    r = await client.get(
                        "/token/",
                        params={
                            "username": "demo",
                            "token": token,
                            "from": "smsgate",
                            "to": f"38050{n:06d}8",
                            "text": "crash callbacks",
                            "dlr_url": hook,
                        },
                    )
                    (message_id,) = r.text.split("<br/>")[1:2]
                    accepted[message_id] = f"38050{n:06d}8"
            # Every message is final and its callback queued; some are on the wire, held by
            # the receiver, the others wait behind them.
            await until(lambda: pending_callbacks(db) == MESSAGES, 30, "callbacks queued")
            await until(lambda: receiver.held >= 1, 30, "callbacks sent and held")
            assert pending_callbacks(db) == MESSAGES
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            receiver.holding.clear()
            proc = start_gateway(config, log)
            await asyncio.wait_for(wait_ready(base, creds_file, proc), 40)
            await until(lambda: pending_callbacks(db) == 0, 30, "callbacks sent after restart")
        finally:
            await stop_node(proc)
            server.close()
    got = {form["id"]: form for form in receiver.forms}
    assert set(got) == set(accepted)
    assert all(form["shop"] == "7" for form in got.values())  # the URL's own query kept
    assert {form["status"] for form in got.values()} == {"DELIVRD"}
    assert all(got[i]["phone"] == phone for i, phone in accepted.items())
