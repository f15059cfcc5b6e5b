"""What issue 22 saw, as a user of `make run` sees it: `smsgate serve --demo` (its simulator
the operator, its own receipt watch settings), a message sent through the JSON door with
"lifetime": 1 to the simulator's …0007, which the operator accepts and never reports. It must
read EXPIRED about a minute later, charged like an EXPIRED receipt; before the receipt watch it
stayed ENROUTE forever.

The real minute is waited out while the rest of the suite runs: once the session's tests are
known (tests/e2e/conftest.py), the node is started and the message sent (`EARLY`), and the test
reads the outcome when its turn comes. Run alone, or if that early start failed, the test
starts its own node and waits the minute itself."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from smsgate.domain.money import format_money
from smsgate.gateway.demo_account import DEMO_PRICE, DEMO_TOP_UP

from .demo_node import demo_node, ready

SILENT = "380501230007"  # accepted by the simulator, never reported
DELIVERED = "380501230008"


@dataclass
class Sent:
    port: int
    token: str
    ids: dict[str, str]  # phone -> message id
    at: float  # time.monotonic() when it was sent


def start_and_send(workdir: Path, stack: contextlib.ExitStack) -> Sent:
    """A `make run` node in `workdir` (stopped when `stack` closes) and the message sent."""
    port = stack.enter_context(demo_node(workdir))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # no event loop of the caller's
        token = pool.submit(asyncio.run, ready(port, workdir)).result()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        at = time.monotonic()
        r = client.post(
            "/sms/send",
            headers={"Authorization": f"Bearer {token}"},
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
    return Sent(port, token, ids, at)


class EarlySend:
    """The node and message of the session, started before the other tests run."""

    def __init__(self) -> None:
        self.stack = contextlib.ExitStack()
        self.sent: Sent | None = None

    def start(self) -> None:
        workdir = Path(tempfile.mkdtemp(prefix="smsgate-expiry-"))
        self.stack.callback(shutil.rmtree, workdir, True)
        try:
            self.sent = start_and_send(workdir, self.stack)
        except Exception:  # the test starts its own node and shows what is wrong
            self.stop()

    def stop(self) -> None:
        self.stack.close()


EARLY = EarlySend()


@pytest.fixture
def sent(tmp_path: Path) -> Iterator[Sent]:
    if EARLY.sent is not None:
        yield EARLY.sent
        return
    with contextlib.ExitStack() as stack:
        yield start_and_send(tmp_path, stack)


async def test_a_message_never_reported_reads_expired_a_minute_after_lifetime_1(
    sent: Sent,
) -> None:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{sent.port}",
        headers={"Authorization": f"Bearer {sent.token}"},
        timeout=10,
    ) as client:
        ids = sent.ids
        seen: dict[str, str] = {}
        # The lifetime (60 s), the watch's grace (5 s) and one of its rounds (5 s), with room
        # for a loaded machine; when started early, it is long over by now.
        deadline = max(sent.at + 150, time.monotonic() + 5)
        while time.monotonic() < deadline:
            r = await client.post("/sms/status", json={"id_sms": list(ids.values())})
            seen = r.json()["success_request"]["info"]
            if seen.get(ids[SILENT]) != "ENROUTE":
                break
            await asyncio.sleep(1.0)
        assert seen == {ids[SILENT]: "EXPIRED", ids[DELIVERED]: "DELIVRD"}, seen
        # When: after its lifetime, about a minute after it was sent (its own timestamps).
        r = await client.get(f"/api/v1/messages/{ids[SILENT]}")
        assert r.status_code == 200, r.text
        message = r.json()
        created, done = (datetime.fromisoformat(message[k]) for k in ("created_at", "done_at"))
        assert 60 <= (done - created).total_seconds() <= 150, message

        # The operator took both parts: both stay charged, as after an EXPIRED receipt.
        r = await client.post("/sms/balance")
        money = r.json()["success_request"]["info"]["money"]
        assert money == format_money(DEMO_TOP_UP - 2 * DEMO_PRICE), r.text
