"""Accepted means durable: the gateway runs as a subprocess, is killed with SIGKILL while messages
stream in and out, and is restarted; every id answered as accepted reaches a final status, and the
operator saw every part at least once and twice only for parts in flight at the kill."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
from stopping import stop_node

from smsgate.domain.status import PartState
from smsgate.simulator.config import SimulatorConfig
from smsgate.simulator.running import running_simulator

from .test_json_end_to_end import FINAL, free_port

SMSGATE = str(Path(sys.executable).parent / "smsgate")
WINDOW = 16


def phones_in_flight(db: Path) -> set[str]:
    """Destinations of the parts the killed gateway had claimed but not recorded (SENDING)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT m.phone FROM parts p JOIN messages m ON m.id = p.message_id WHERE p.state = ?",
            (int(PartState.SENDING),),
        ).fetchall()
    return {phone for (phone,) in rows}


def start_gateway(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [SMSGATE, "serve", "--demo", "--config", str(config)],
        cwd=config.parent,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def wait_ready(base: str, creds_file: Path, proc: subprocess.Popen[bytes]) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        for _ in range(300):
            if proc.poll() is not None:
                raise AssertionError("gateway exited during start")
            try:
                r = await client.get("/health")
                bound = r.status_code == 200 and all(
                    c["bound"] for c in r.json()["connectors"].values()
                )
                if bound and creds_file.exists():
                    return str(json.loads(creds_file.read_text())["token"])
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("gateway did not become ready")


async def test_sigkill_loses_no_accepted_message(tmp_path: Path) -> None:
    sim_config = SimulatorConfig(port=0, receipt_delay=0.05, window=WINDOW)
    async with running_simulator(sim_config) as sim:
        http_port = free_port()
        config = tmp_path / "smsgate.toml"
        config.write_text(
            f"""
[database]
url = "sqlite+aiosqlite:///{tmp_path}/crash.db"
[http]
port = {http_port}
[smpp]
enabled = false
[dispatch]
retry_backoff = 0.05
retry_backoff_max = 0.2
[[connectors]]
name = "sim"
host = "127.0.0.1"
port = {sim.port}
system_id = "smsgate"
password = "sim"
window = {WINDOW}
"""
        )
        base = f"http://127.0.0.1:{http_port}"
        log = tmp_path / "gateway.log"
        creds_file = tmp_path / "demo-credentials.json"
        proc = start_gateway(config, log)
        accepted: dict[str, str] = {}
        try:
            token = await asyncio.wait_for(wait_ready(base, creds_file, proc), 40)
            # The demo account pays for 2,000 parts; a fast machine sends more than that here.
            top_up = await asyncio.create_subprocess_exec(
                SMSGATE,
                "admin",
                "balance",
                "top-up",
                "demo",
                "1000000",
                "--config",
                str(config),
                stdout=asyncio.subprocess.DEVNULL,
            )
            assert await asyncio.wait_for(top_up.wait(), 30) == 0
            headers = {"Authorization": f"Bearer {token}"}
            sent = 0

            async def stream(client: httpx.AsyncClient, worker: int) -> None:
                nonlocal sent
                while True:
                    # Ending in 8 keeps clear of the simulator's magic endings 0001-0007.
                    phones = [f"38050{worker}{sent + i:05d}8" for i in range(5)]
                    sent += 5
                    body = {"phone": phones, "message": "crash test", "src_addr": "smsgate"}
                    try:
                        r = await client.post("/sms/send", json=body)
                    except httpx.TransportError:
                        return  # the gateway died under this request: it was never answered
                    answer = r.json()["success_request"]
                    assert "add_info" not in answer, answer
                    accepted.update(answer["info"])

            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=5) as client:
                workers = [asyncio.create_task(stream(client, w)) for w in range(4)]
                await asyncio.sleep(2.0)
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(10)
                await asyncio.wait_for(asyncio.gather(*workers), 10)
            in_flight = phones_in_flight(tmp_path / "crash.db")
            assert len(accepted) > 100, "too little traffic before the kill to prove anything"

            proc = start_gateway(config, log)
            await asyncio.wait_for(wait_ready(base, creds_file, proc), 40)
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
                ids = list(accepted)
                final: dict[str, str] = {}
                for _ in range(300):
                    pending = [i for i in ids if i not in final]
                    if not pending:
                        break
                    for start in range(0, len(pending), 100):
                        r = await client.post(
                            "/sms/status", json={"id_sms": pending[start : start + 100]}
                        )
                        info = r.json()["success_request"].get("info", {})
                        final.update({k: v for k, v in info.items() if v in FINAL})
                    await asyncio.sleep(0.2)
        finally:
            await stop_node(proc)

        assert set(final) == set(accepted), f"{len(set(accepted) - set(final))} never final"
        assert set(final.values()) == {"DELIVRD"}
        seen = sim.counters.by_destination
        phones = list(accepted.values())
        assert all(seen[p] >= 1 for p in phones)
        twice = {p for p in phones if seen[p] > 1}
        # Only parts in flight at the kill (claimed, maybe sent, result not yet stored) may go
        # out again; and there are never more of those than the dispatcher may claim at once.
        assert twice <= in_flight
        assert len(in_flight) <= 2 * WINDOW + 500  # its capacity + one batch of unstored results
