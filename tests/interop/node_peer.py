"""Running node `smpp` 0.5.1 as a peer: installing it if needed, and the esme.js and
operator.js scripts as subprocesses. Missing node or npm is a failure, never a skip."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

NODE_DIR = Path(__file__).parent / "node"


def ensure_node_smpp() -> None:
    if shutil.which("node") is None:
        pytest.fail("node is required for the interop tests (apt-get install nodejs npm)")
    if (NODE_DIR / "node_modules" / "smpp").is_dir():
        return
    if shutil.which("npm") is None:
        pytest.fail("npm is required to install node smpp 0.5.1 for the interop tests")
    done = subprocess.run(
        ["npm", "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0 or not (NODE_DIR / "node_modules" / "smpp").is_dir():
        pytest.fail(f"npm install of node smpp failed:\n{done.stderr[-2000:]}")


async def run_node_esme(options: dict[str, Any], timeout: float = 30.0) -> list[dict[str, Any]]:
    """Run esme.js with `options` and return every JSON line it printed."""
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(NODE_DIR / "esme.js"),
        json.dumps(options),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    lines = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
    if not lines or lines[-1].get("event") != "summary":
        raise AssertionError(f"esme.js ended without a summary: {lines!r}\n{stderr.decode()}")
    return lines


class NodeOperator:
    """operator.js in a subprocess: `await start()` returns once it listens; `events` fills
    with every JSON line it prints."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.events: list[dict[str, Any]] = []
        self.port = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 10.0) -> NodeOperator:
        self._proc = await asyncio.create_subprocess_exec(
            "node",
            str(NODE_DIR / "operator.js"),
            json.dumps(self.options),
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        line = await asyncio.wait_for(self._proc.stdout.readline(), timeout)
        first = json.loads(line)
        assert first["event"] == "listening", first
        self.port = int(first["port"])
        self._reader = asyncio.ensure_future(self._read())
        return self

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while line := await self._proc.stdout.readline():
            self.events.append(json.loads(line))

    def of(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == event]

    async def wait_for(self, event: str, count: int = 1, timeout: float = 10.0) -> None:
        async def poll() -> None:
            while len(self.of(event)) < count:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(poll(), timeout)

    async def stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            await asyncio.wait_for(self._proc.wait(), 10)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 10)

    async def __aenter__(self) -> NodeOperator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
