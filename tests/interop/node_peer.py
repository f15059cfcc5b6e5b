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
