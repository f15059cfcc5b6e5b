"""Stopping a node process from a test whose event loop also runs the node's operator (an
in-process simulator): the wait must not block that loop, or the stopping node's unbind waits
out its own timeout for an answer the blocked simulator cannot give (~10 s per node)."""

from __future__ import annotations

import asyncio
import signal
import subprocess


async def stop_node(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM, then wait for the exit with the loop free; killed if it outlives `timeout`."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.to_thread(proc.wait), timeout)
    except TimeoutError:
        proc.kill()
        await asyncio.to_thread(proc.wait)
