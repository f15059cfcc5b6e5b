"""schemathesis against the live native API, from its own OpenAPI document: a node on real
sockets, the schemathesis command generating valid and invalid requests for every operation.
The proof is that no answer is a server error and none breaks the document (status codes,
content types, headers, bodies). Bounded: a few dozen cases per operation, well under a minute."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smsgate.config import demo_settings, load_settings
from smsgate.gateway.demo_account import DemoCredentials, ensure_demo_account
from smsgate.node import Node

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[DemoCredentials, str]]:
    settings = demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/fuzz.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": False},
            simulator={"port": free_port(), "receipt_delay": 0.05},
        )
    )
    n = Node(settings)
    await asyncio.wait_for(n.start(), 20)
    try:
        creds = await ensure_demo_account(n.store, tmp_path / "demo.json")
        yield creds, f"http://127.0.0.1:{n.addresses.http_port}"
    finally:
        await asyncio.wait_for(n.stop(), 20)


async def test_no_server_error_and_no_answer_outside_the_document(
    node: tuple[DemoCredentials, str], tmp_path: Path
) -> None:
    creds, base = node
    command = shutil.which("schemathesis", path=os.path.dirname(sys.executable))
    assert command is not None, "schemathesis is a dev dependency"
    process = await asyncio.create_subprocess_exec(
        command,
        "run",
        f"{base}/api/v1/openapi.json",
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {creds.token}",
        "--max-examples",
        "25",
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        "20261207",
        "--generation-database",
        "none",
        "--rate-limit",
        "40/s",
        "--workers",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    report = out.decode(errors="replace")
    assert process.returncode == 0, report
    assert "passed" in report and "failed" not in report, report
