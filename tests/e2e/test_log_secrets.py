"""A full demo node, sent to through every door, logs what an operator needs (binds, unbinds,
refused binds with their reason, connectors that cannot connect, every HTTP request in the
access log) and never a secret: the captured log is grepped for the demo account's token and
passwords and for the connectors' passwords."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from smsgate.smpp.client import SmppClient
from smsgate.smpp.pdu import SubmitSm

from .test_json_end_to_end import free_port

SMSGATE = str(Path(sys.executable).parent / "smsgate")
T = 30.0
SIM_PASSWORD = "simS3crt"  # SMPP passwords are 8 characters at most
WRONG_PASSWORD = "nopeS3cr"
GUESSED_PASSWORD = "guessS3c"


def config_text(tmp_path: Path, http: int, smpp: int, sim: int, nowhere: int) -> str:
    return f"""
[database]
url = "sqlite+aiosqlite:///{tmp_path}/var/smsgate.db"
[http]
port = {http}
[smpp]
port = {smpp}
[log]
format = "json"
access = true
[simulator]
enabled = true
port = {sim}
password = "{SIM_PASSWORD}"
receipt_delay = 0.05

[[connectors]]
name = "simulator"
host = "127.0.0.1"
port = {sim}
system_id = "smsgate"
password = "{SIM_PASSWORD}"

[[connectors]]
name = "wrong-password"
host = "127.0.0.1"
port = {sim}
system_id = "smsgate"
password = "{WRONG_PASSWORD}"

[[connectors]]
name = "nowhere"
host = "127.0.0.1"
port = {nowhere}
system_id = "smsgate"
password = "{WRONG_PASSWORD}"

[[routes]]
connectors = ["simulator"]
"""


async def until_ready(base: str, creds: Path, proc: subprocess.Popen[bytes]) -> dict[str, str]:
    deadline = asyncio.get_running_loop().time() + T
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        while asyncio.get_running_loop().time() < deadline:
            assert proc.poll() is None, "the node exited during start"
            try:
                health = (await client.get("/health")).json()
                if health["connectors"]["simulator"]["bound"] and creds.exists():
                    return dict(json.loads(creds.read_text()))
            except (httpx.TransportError, KeyError, ValueError):
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the node did not become ready")


async def send_through_every_door(base: str, smpp_port: int, creds: dict[str, str]) -> None:
    sender, phone = creds["sender"], "380501234567"
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        sent = await http.post(
            "/sms/send",
            headers={"Authorization": f"Bearer {creds['token']}"},
            json={"phone": [phone], "message": "json door", "src_addr": sender},
        )
        assert "success_request" in sent.text, sent.text
        by_token = await http.get(
            "/token/",
            params={
                "username": "demo",
                "token": creds["token"],
                "from": sender,
                "to": phone,
                "text": "token door",
            },
        )
        assert "=IDS START=" in by_token.text, by_token.text
        by_password = await http.get(
            "/http/",
            params={
                "username": "demo",
                "password": creds["password"],
                "from": sender,
                "to": phone,
                "text": "http door",
            },
        )
        assert "=IDS START=" in by_password.text, by_password.text
        xml = (
            '<?xml version="1.0" encoding="utf-8"?><request_sendsms><username>demo</username>'
            f"<password>{creds['password']}</password><from>{sender}</from><to>{phone}</to>"
            "<text>xml door</text></request_sendsms>"
        )
        by_xml = await http.post("/xml/", content=xml)
        assert "<status>OK</status>" in by_xml.text, by_xml.text
        wrong = await http.post(
            "/sms/send",
            headers={"Authorization": f"Bearer {GUESSED_PASSWORD}"},
            json={"phone": [phone], "message": "x", "src_addr": sender},
        )
        assert wrong.status_code in (200, 401)
    client = SmppClient("127.0.0.1", smpp_port, "demo", creds["smpp_password"])
    await client.start()
    try:
        await client.wait_bound(T)
        answer = await asyncio.wait_for(
            client.submit(
                SubmitSm(source_addr=sender, destination_addr=phone, short_message=b"smpp door")
            ),
            T,
        )
        assert answer.command_status == 0
    finally:
        await asyncio.wait_for(client.close(), T)
    refused = SmppClient("127.0.0.1", smpp_port, "demo", GUESSED_PASSWORD, backoff_initial=5)
    await refused.start()
    deadline = asyncio.get_running_loop().time() + T
    while not refused.health.last_error:  # the door's answer to a wrong password
        assert asyncio.get_running_loop().time() < deadline, "the bind was never answered"
        await asyncio.sleep(0.02)
    assert "ESME_RINVPASWD" in refused.health.last_error
    await asyncio.wait_for(refused.close(), T)


async def test_a_full_run_logs_the_events_and_no_secret(tmp_path: Path) -> None:
    http, smpp, sim, nowhere = free_port(), free_port(), free_port(), free_port()
    config = tmp_path / "smsgate.toml"
    config.write_text(config_text(tmp_path, http, smpp, sim, nowhere), encoding="utf-8")
    log = tmp_path / "node.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [SMSGATE, "serve", "--demo", "--config", str(config)],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,  # the demo banner prints the credentials on purpose
            stderr=err,
            env={k: v for k, v in os.environ.items() if not k.startswith("SMSGATE_")},
        )
        try:
            creds = await until_ready(
                f"http://127.0.0.1:{http}", tmp_path / "var" / "demo-credentials.json", proc
            )
            await send_through_every_door(f"http://127.0.0.1:{http}", smpp, creds)
            health = httpx.get(f"http://127.0.0.1:{http}/health", timeout=5).json()
            # /health (and so `smsgate admin connectors list`) says why each bind is down.
            down = {n: c["last_error"] for n, c in health["connectors"].items() if not c["bound"]}
            assert down["nowhere"] == "connect refused"
            assert down["wrong-password"].endswith("(ESME_RINVPASWD)")
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(T)
    text = log.read_text(encoding="utf-8")
    secrets = [
        creds["token"],
        creds["password"],
        creds["smpp_password"],
        SIM_PASSWORD,
        WRONG_PASSWORD,
        GUESSED_PASSWORD,
    ]
    for secret in secrets:
        assert secret not in text, f"a secret is in the log: {secret[:3]}…"
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    events = [r.get("event") for r in records]
    for expected in (
        "connector_bound",
        "connector_bind_refused",
        "connector_connect_failed",
        "smpp_bind",
        "smpp_unbind",
        "smpp_bind_refused",
    ):
        assert expected in events, (expected, text)
    # The access log was on: the doors' requests are in it, by account, without their query
    # (the token and password doors carry the secrets there).
    requests = {
        (r["method"], r["path"], r["account"]) for r in records if r.get("event") == "http_request"
    }
    for door in (("POST", "/sms/send"), ("GET", "/token/"), ("GET", "/http/"), ("POST", "/xml/")):
        assert (*door, "demo") in requests, (door, requests)
