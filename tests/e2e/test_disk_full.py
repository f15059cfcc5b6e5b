"""A full disk under the SQLite file, for real: the node runs in a mount namespace of its own
(`unshare`, with a user namespace when not root) on a 24 MB tmpfs that the test fills to the
last byte under load. While it is full each HTTP door answers 503 in its own format and the
node keeps running, its connector unbound once its lease could not be renewed; once space is
freed it accepts and binds again without a restart, and every message it accepted reaches a
final status with money conserved."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from stopping import stop_process

from .test_crash import SMSGATE
from .test_json_end_to_end import FINAL, free_port

DEADLINE = 60.0  # generous: the machine is shared


def in_own_mount(mount: Path, command: list[str]) -> list[str]:
    """`command` in a new mount namespace with a small tmpfs on `mount`, seen by nobody else
    (and gone with the process); a user namespace makes that possible without root."""
    userns = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    script = 'mount -t tmpfs -o size=24m tmpfs "$0" && exec "$@"'
    return ["unshare", *userns, "--mount", "sh", "-c", script, str(mount), *command]


async def until(
    check: Callable[[], Awaitable[bool]], what: str, timeout: float = DEADLINE
) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


async def test_a_full_disk_gets_503s_and_the_node_recovers_without_a_restart(
    tmp_path: Path,
) -> None:
    mount = tmp_path / "disk"
    mount.mkdir()
    http_port = free_port()
    config = tmp_path / "smsgate.toml"
    # A part whose operator answer could not be written while the disk was full is sent
    # again once its claim runs out: 10 s here instead of the default 300 s.
    config.write_text(
        f"""
[database]
url = "sqlite+aiosqlite:///{mount}/smsgate.db"
[http]
port = {http_port}
[smpp]
enabled = false
[simulator]
port = {free_port()}
[dispatch]
claim_ttl = 10.0
[node]
lease_ttl = 3.0
connector_lease_ttl = 1.5
"""
    )
    log = tmp_path / "node.log"
    proc = subprocess.Popen(
        in_own_mount(mount, [SMSGATE, "serve", "--demo", "--config", str(config)]),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    # The node's files, as seen from outside its mount namespace.
    disk = Path(f"/proc/{proc.pid}/root") / str(mount).lstrip("/")
    db = mount / "smsgate.db"  # inside it
    base = f"http://127.0.0.1:{http_port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=15) as client:

            async def health() -> dict[str, object]:
                r = await client.get("/health")
                data: dict[str, object] = r.json() if r.status_code == 200 else {}
                return data

            async def bound() -> bool:
                with contextlib.suppress(httpx.TransportError):
                    connectors = (await health()).get("connectors", {})
                    assert isinstance(connectors, dict)
                    return bool(connectors) and all(c["bound"] for c in connectors.values())
                return False

            async def started() -> bool:
                assert proc.poll() is None, log.read_text()[-3000:]
                return (disk / "demo-credentials.json").exists() and await bound()

            await until(started, "the node serves with its connector bound")
            creds = json.loads((disk / "demo-credentials.json").read_text())
            auth = {"Authorization": f"Bearer {creds['token']}"}
            accepted: list[str] = []
            answers: dict[int, int] = {}
            sent = 0

            async def send() -> httpx.Response:
                nonlocal sent
                sent += 1
                phones = [f"38050{sent:05d}{i}8" for i in range(3)]
                body = {"phone": phones, "message": "full?", "src_addr": "smsgate"}
                r = await client.post("/sms/send", headers=auth, json=body)
                answers[r.status_code] = answers.get(r.status_code, 0) + 1
                if r.status_code == 200:
                    accepted.extend(r.json()["success_request"]["info"])
                return r

            stop = asyncio.Event()

            async def load() -> None:
                while not stop.is_set():
                    with contextlib.suppress(httpx.TransportError):
                        await send()
                    await asyncio.sleep(0.05)

            loader = asyncio.create_task(load())
            await until(lambda: _true(len(accepted) >= 30), "some messages accepted first")

            # Fill the disk to its last byte. Unbuffered: a buffered file would try to write
            # its unwritten tail again when closed, and raise ENOSPC there.
            with (disk / "filler").open("wb", buffering=0) as f, contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * (1 << 16))

            async def refused() -> bool:
                return (await send()).status_code == 503

            await until(refused, "the JSON door answers 503 while the disk is full")
            await until(_not(bound), "the connector unbound: its lease could not be renewed")
            # Past the node lease's ttl too, the node keeps running, bound to nothing.
            await asyncio.sleep(4.0)
            assert proc.poll() is None, log.read_text()[-3000:]
            assert not await bound()
            json_door = await client.post(
                "/sms/send",
                headers=auth,
                json={"phone": ["380509990008"], "message": "full", "src_addr": "smsgate"},
            )
            http_door = await client.get(
                "/token/",
                params={"username": "demo", "token": creds["token"], "from": "smsgate",
                        "to": "380509990008", "text": "full"},
            )  # fmt: skip
            xml_door = await client.post(
                "/xml/",
                content=(
                    '<?xml version="1.0" encoding="utf-8"?><request_sendsms><username>demo'
                    f"</username><password>{creds['password']}</password><from>smsgate</from>"
                    "<to>380509990008</to><text>full</text></request_sendsms>"
                ),
            )
            for r in (json_door, http_door, xml_door):
                assert r.status_code == 503 and r.headers["Retry-After"] == "1", r.text
            assert json_door.json()["status"] == 503
            assert "The database is not answering" in json_door.json()["message"]
            assert xml_door.text.startswith("<?xml") and "<status>ERROR</status>" in xml_door.text
            assert http_door.text.startswith("The database is not answering")

            (disk / "filler").unlink()  # room again
            before = len(accepted)
            await until(lambda: _true(len(accepted) > before), "accepting again after the disk")
            await until(bound, "the connector bound again")
            stop.set()
            await loader
            assert proc.poll() is None
            text = log.read_text()
            assert "connectors unbound until it answers and the lease is ours again" in text
            assert "the store answers again and lease node:" in text

            async def all_final() -> bool:
                final = 0
                for start in range(0, len(accepted), 100):
                    r = await client.post(
                        "/sms/status", headers=auth, json={"id_sms": accepted[start : start + 100]}
                    )
                    info = r.json()["success_request"]["info"]
                    final += sum(1 for v in info.values() if v in FINAL)
                return final == len(accepted)

            try:
                await until(all_final, "every accepted message final")
            except AssertionError as failed:
                states = "SELECT state, count(*), max(claim_until) FROM parts GROUP BY state"
                raise AssertionError(f"parts: {query(proc.pid, db, states)}") from failed
            balance, reserved, charged = money(proc.pid, db)
            assert reserved == 0 and balance + charged == 1000 * 10_000
            assert answers.get(503, 0) > 0 and answers.get(500, 0) == 0, answers
    finally:
        stop_process(proc)


def query(pid: int, db: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of `sql`, read inside the node's mount namespace (SQLite resolves the symlink
    /proc/<pid>/root to this namespace's view of the path, where the tmpfs is not)."""
    userns = [] if os.geteuid() == 0 else ["--user", "--preserve-credentials"]
    code = (
        "import json, sqlite3, sys; "
        "c = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True); "
        "print(json.dumps(c.execute(sys.argv[2]).fetchall()))"
    )
    command = [sys.executable, "-c", code, str(db), sql]
    done = subprocess.run(
        ["nsenter", "--target", str(pid), *userns, "--mount", *command],
        capture_output=True,
        text=True,
        check=True,
    )
    return [tuple(row) for row in json.loads(done.stdout)]


def money(pid: int, db: Path) -> tuple[int, int, int]:
    """The demo account's (balance, reserved, charged)."""
    sql = "SELECT balance, reserved, charged FROM accounts WHERE login = 'demo'"
    [(balance, reserved, charged)] = query(pid, db, sql)
    return int(balance), int(reserved), int(charged)  # type: ignore[call-overload]


async def _true(value: bool) -> bool:
    return value


def _not(check: Callable[[], Awaitable[bool]]) -> Callable[[], Awaitable[bool]]:
    async def negated() -> bool:
        return not await check()

    return negated
