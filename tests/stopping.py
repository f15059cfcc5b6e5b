"""Stopping a node process a test started: SIGTERM, then a kill if it outlives `timeout`.

`stop_node` waits with the event loop free, for tests whose loop also runs the node's operator
(an in-process simulator): a blocking wait there leaves the node's unbind unanswered, and each
stop waited out ~10 s of the unbind's timeout."""

from __future__ import annotations

import asyncio
import signal
import subprocess


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def stop_node(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    await asyncio.to_thread(stop_process, proc, timeout)
