"""Parts of a long inbound SMS are durable: a gateway that has answered the first part of a
three-part MO is killed with SIGKILL; after a restart the operator sends the other two and
the account gets the message whole, once."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path

from stopping import stop_node

from smsgate.simulator.config import SimulatorConfig
from smsgate.simulator.running import running_simulator
from smsgate.store.records import NumberRoute
from smsgate.store.sql_store import SqlStore

from .test_callbacks_crash import until
from .test_crash import start_gateway, wait_ready
from .test_json_end_to_end import free_port

PHONE = "380501112233"
LONG = "Kept across a crash: " + "abcdefghij" * 30  # 321 characters: 3 GSM-7 parts


def count(db: Path, table: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0])


def inbound_texts(db: Path) -> list[tuple[str, int, int]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT text, parts, total FROM inbound_messages ORDER BY id")
        return [(str(t), int(p), int(n)) for t, p, n in rows]


async def test_sigkill_between_parts_of_an_mo_loses_none(tmp_path: Path) -> None:
    async with running_simulator(SimulatorConfig(port=0, receipt_delay=0.05)) as sim:
        http_port = free_port()
        db = tmp_path / "inbound.db"
        config = tmp_path / "smsgate.toml"
        config.write_text(
            f"""
[database]
url = "sqlite+aiosqlite:///{db}"
[http]
port = {http_port}
[smpp]
enabled = false
[inbound]
reassembly_timeout = 600
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
            await asyncio.wait_for(wait_ready(base, creds_file, proc), 40)
            store = SqlStore(f"sqlite+aiosqlite:///{db}")
            await store.open()
            try:
                demo = await store.credentials("demo")
                assert demo is not None
                await store.add_number(NumberRoute("7000", demo.account.id))
            finally:
                await store.close()
            # The first part only: answered once kept, then the gateway dies.
            assert sim.handler.send_mo(PHONE, "7000", LONG, lose={2, 3}, ref=77) == 3
            await until(lambda: count(db, "inbound_parts") == 1, 30, "the first part kept")
            await until(lambda: sim.handler.counters.mo_sent == 1, 30, "the first part sent")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            assert count(db, "inbound_messages") == 0

            proc = start_gateway(config, log)
            await asyncio.wait_for(wait_ready(base, creds_file, proc), 40)
            sim.handler.send_mo(PHONE, "7000", LONG, lose={1}, ref=77)
            await until(lambda: count(db, "inbound_messages") == 1, 30, "the message stored")
        finally:
            await stop_node(proc)
    assert inbound_texts(db) == [(LONG, 3, 3)]
    assert count(db, "inbound_parts") == 0
