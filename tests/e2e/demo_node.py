"""`smsgate serve --demo` as `make run` starts it, in a test's own directory and on free ports:
the node, and the wait until it answers with its connector bound and its demo token written."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from stopping import stop_process

from .test_crash import SMSGATE
from .test_json_end_to_end import free_port


@contextlib.contextmanager
def demo_node(workdir: Path) -> Iterator[int]:
    """The node's HTTP port; its output goes to `workdir/node.log`. Stopped with SIGTERM (a
    kill after 30 s) when the block ends. The simulator's control port is free too, for tests
    that send an inbound SMS."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSGATE_")}
    env.update(
        SMSGATE_HTTP__PORT=str(port),
        SMSGATE_SMPP__PORT=str(free_port()),
        SMSGATE_SIMULATOR__PORT=str(free_port()),
        SMSGATE_SIMULATOR__CONTROL_PORT=str(free_port()),
    )
    with (workdir / "node.log").open("ab") as log:
        proc = subprocess.Popen(
            [SMSGATE, "serve", "--demo"], cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env
        )
    try:
        yield port
    finally:
        stop_process(proc)


async def ready(port: int, workdir: Path) -> str:
    """The demo token, once the node answers and its connector is bound."""
    creds = workdir / "var" / "demo-credentials.json"
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                r = await client.get(f"http://127.0.0.1:{port}/health")
                if r.status_code == 200 and b'"bound":true' in r.content and creds.exists():
                    token: str = json.loads(creds.read_text())["token"]
                    return token
            await asyncio.sleep(0.2)
    raise AssertionError((workdir / "node.log").read_text()[-4000:])
