"""A node killed with SIGKILL and started again serves HTTP at once, under its own node id: it
takes back its lease holder name from its state directory instead of waiting for its old
node lease to run out. A second live process on the same directory gets a name and an id of
its own (ids embed the node id, so two live processes must never share one)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx

from .test_crash import SMSGATE
from .test_json_end_to_end import free_port

LEASE_TTL = 30.0  # waiting out the old lease would take this long: far beyond the bound below


def about_a_first_start(first: float, again: float) -> bool:
    """A restart that did not wait out the old lease: about as fast as the first start. On a
    loaded machine a start swings by seconds (7.7 s, then 11.4 s for the restart, at a load
    average of 10), so the bound scales with the first start, and stays well under the lease
    ttl it rules out."""
    return again < min(2 * first + 3.0, LEASE_TTL * 0.8)


def start(config: Path, log: Path, http_port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [SMSGATE, "serve", "--config", str(config)],
        cwd=config.parent,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "SMSGATE_HTTP__PORT": str(http_port)},
    )


async def seconds_to_serve(proc: subprocess.Popen[bytes], http_port: int) -> float:
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=1) as client:
        while time.monotonic() - started < LEASE_TTL:
            assert proc.poll() is None, "the node exited"
            try:
                r = await client.get(f"http://127.0.0.1:{http_port}/health")
                if r.status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the node did not serve HTTP within a lease ttl")


def node_ids(log: Path) -> list[tuple[int, str]]:
    """(node id, holder) per start, from the node's log lines."""
    found = re.findall(r"node id (\d+) \(lease holder (\S+)\)", log.read_text())
    return [(int(node_id), holder) for node_id, holder in found]


async def test_a_node_killed_with_sigkill_serves_again_at_once_under_its_own_id(
    tmp_path: Path,
) -> None:
    config = tmp_path / "smsgate.toml"
    config.write_text(
        f"""
node_id = 5
[database]
url = "sqlite+aiosqlite:///{tmp_path}/restart.db"
[smpp]
enabled = false
[node]
lease_ttl = {LEASE_TTL}
"""
    )
    log = tmp_path / "node.log"
    port = free_port()
    procs = [start(config, log, port)]
    try:
        first = await seconds_to_serve(procs[0], port)
        os.kill(procs[0].pid, signal.SIGKILL)
        procs[0].wait(10)

        procs.append(start(config, log, port))
        again = await seconds_to_serve(procs[1], port)
        # As fast as a first start (interpreter, imports, migrations), give or take the
        # machine's load: never a lease ttl.
        assert about_a_first_start(first, again), (first, again)

        other_port = free_port()
        procs.append(start(config, log, other_port))
        await seconds_to_serve(procs[2], other_port)
        (id1, holder1), (id2, holder2), (id3, holder3) = node_ids(log)
        assert id1 == id2 == 5 and holder1 == holder2  # the same node, back
        assert id3 != 5 and holder3 != holder1  # a second live node: its own id
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(20)


def worker_pids(supervisor: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-ww", "-o", "pid=,args=", "--ppid", str(supervisor)],
        capture_output=True,
        text=True,
    ).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "multiprocessing.spawn" in line]


def gone(pid: int) -> bool:
    """Exited (a zombie nobody reaped counts: it holds no lock and no socket)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


async def seconds_until_both_workers_serve(
    proc: subprocess.Popen[bytes], http_port: int, log: Path, starts: int
) -> float:
    """Until the `starts`-th start of both workers is logged and HTTP answers."""
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=1) as client:
        while time.monotonic() - started < LEASE_TTL:
            assert proc.poll() is None, "the supervisor exited"
            if len(node_ids(log)) >= 2 * starts:
                try:
                    r = await client.get(f"http://127.0.0.1:{http_port}/health")
                    if r.status_code == 200:
                        return time.monotonic() - started
                except httpx.TransportError:
                    pass
            await asyncio.sleep(0.05)
    raise AssertionError("the workers did not serve within a lease ttl")


async def test_workers_killed_with_their_supervisor_serve_again_at_once_under_their_ids(
    tmp_path: Path,
) -> None:
    config = tmp_path / "smsgate.toml"
    config.write_text(
        f"""
node_id = 5
[database]
url = "sqlite+aiosqlite:///{tmp_path}/workers.db"
[smpp]
enabled = false
[node]
lease_ttl = {LEASE_TTL}
"""
    )
    log = tmp_path / "workers.log"
    port = free_port()
    command = [SMSGATE, "serve", "--config", str(config), "--workers", "2"]
    env = {**os.environ, "SMSGATE_HTTP__PORT": str(port)}
    procs = [subprocess.Popen(command, cwd=tmp_path, stdout=log.open("ab"),
                              stderr=subprocess.STDOUT, env=env)]  # fmt: skip
    workers: list[int] = []
    try:
        first = await seconds_until_both_workers_serve(procs[0], port, log, starts=1)
        workers = worker_pids(procs[0].pid)
        assert len(workers) == 2
        os.kill(procs[0].pid, signal.SIGKILL)
        procs[0].wait(10)
        # The workers die with it (left running, they would hold the port and their leases).
        deadline = time.monotonic() + 10
        while not all(gone(pid) for pid in workers):
            assert time.monotonic() < deadline, "a worker outlived its supervisor"
            await asyncio.sleep(0.05)

        procs.append(subprocess.Popen(command, cwd=tmp_path, stdout=log.open("ab"),
                                      stderr=subprocess.STDOUT, env=env))  # fmt: skip
        again = await seconds_until_both_workers_serve(procs[1], port, log, starts=2)
        # As fast as a first start, give or take the machine's load: never a lease ttl.
        assert about_a_first_start(first, again), (first, again)
        before, after = node_ids(log)[:2], node_ids(log)[2:]
        assert sorted(before) == sorted(after)  # the same ids, under the same holder names
        assert {node_id for node_id, _ in after} == {5, 6}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
        for pid in workers:  # the first supervisor's, should one have outlived it
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
