"""Two-way messaging as a newcomer meets it in `make run`: `smsgate serve --demo` prints how to
have a delivery report pushed and how to receive an SMS, and both work as printed on one
machine — the callback reaches the sample receiver on loopback (the demo allows it), and the
`simulator send-mo` line's SMS to the demo's own number is listed by /api/v1/inbound."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from smsgate.gateway.demo_account import DEMO_NUMBER

from .demo_node import demo_node, ready
from .test_crash import SMSGATE
from .test_json_end_to_end import free_port

ROOT = Path(__file__).resolve().parents[2]
T = 60.0


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    with demo_node(tmp_path) as port:
        yield port, tmp_path


def banner_line(workdir: Path, starts: str, having: str = "") -> str:
    for line in (workdir / "node.log").read_text().splitlines():
        if line.strip().startswith(starts) and having in line:
            return line.strip()
    raise AssertionError(f"no line starting {starts!r} with {having!r} in the demo banner")


async def test_the_demo_banners_callback_and_inbound_sms_work_as_printed(
    demo: tuple[int, Path],
) -> None:
    port, workdir = demo
    token = await ready(port, workdir)
    auth = {"Authorization": f"Bearer {token}"}
    receiver_port = free_port()
    receiver = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "examples" / "webhooks" / "receiver.py"),
        f"--port={receiver_port}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert receiver.stderr is not None and receiver.stdout is not None
        await asyncio.wait_for(receiver.stderr.readline(), T)
        # The banner's JSON send with a callback_url, aimed at this test's receiver.
        printed_body = banner_line(workdir, "-d '{", "callback_url").removeprefix("-d ").strip("'")
        body = json.loads(printed_body.replace(":9000/", f":{receiver_port}/"))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            r = await client.post("/sms/send", headers=auth, json=body)
            assert r.status_code == 200, r.text
            (message_id,) = r.json()["success_request"]["info"]
            callback = json.loads(await asyncio.wait_for(receiver.stdout.readline(), T))
            assert callback["callback"]["id"] == message_id
            assert callback["callback"]["status"] == "DELIVRD"

            # The banner's send-mo line, run as printed (but by this tree's smsgate).
            command = shlex.split(banner_line(workdir, ".venv/bin/smsgate simulator send-mo"))
            assert command[-2:] == [DEMO_NUMBER, "Hi"]
            mo = await asyncio.create_subprocess_exec(
                SMSGATE, *command[1:], stdout=asyncio.subprocess.PIPE
            )
            out, _ = await asyncio.wait_for(mo.communicate(), T)
            assert mo.returncode == 0 and b"in 1 part(s)" in out, out
            loop = asyncio.get_running_loop()
            deadline = loop.time() + T
            while True:
                r = await client.get("/api/v1/inbound", params={"after": 0}, headers=auth)
                assert r.status_code == 200, r.text
                if found := r.json()["data"]:
                    break
                assert loop.time() < deadline, "the inbound SMS was not listed"
                await asyncio.sleep(0.2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            receiver.kill()
        await receiver.wait()
    [sms] = found
    assert (sms["from"], sms["to"], sms["text"]) == ("380501112233", DEMO_NUMBER, "Hi")
