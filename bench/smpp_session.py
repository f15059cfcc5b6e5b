"""SMPP session throughput on loopback: our client -> our simulator (another process), one bind,
window 64, with and without a delivery receipt per message; then node `smpp` 0.5.1 as the client
against the same simulator, side by side.

    .venv/bin/python bench/smpp_session.py --messages 100000

Both ends share the machine's cores; the figures are messages acked (and receipts received) per
second of wall time, measured by the client, and each side's CPU time per message (from /proc,
user + system), which other jobs on the machine disturb much less than the rates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, cpu_seconds, free_port, machine, use_uvloop

from smsgate.smpp.client import SmppClient
from smsgate.smpp.pdu import DataSm, DeliverSm, SubmitSm

NODE_DIR = ROOT / "tests" / "interop" / "node"


def runqueue_wait(pid: int) -> float:
    """Seconds a process was runnable but waiting for a CPU (/proc/PID/schedstat): on a shared
    machine, the part of the wall time other jobs took."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


def serve(port: int) -> None:
    """The server side, in its own process: the simulator with receipts at once."""
    use_uvloop()
    from smsgate.simulator import SimulatorConfig, running_simulator

    async def main() -> None:
        config = SimulatorConfig(port=port, receipt_delay=0.0, window=64, first_message_id=1)
        async with running_simulator(config):
            print("ready", flush=True)
            await asyncio.Event().wait()

    asyncio.run(main())


def start_server() -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("the simulator process did not start")
    return proc, port


async def run_ours(
    port: int, server_pid: int, messages: int, window: int, receipts: bool
) -> dict[str, float]:
    received = 0
    done = asyncio.Event()

    def on_deliver(pdu: DeliverSm | DataSm) -> int:
        nonlocal received
        received += 1
        if received >= messages:
            done.set()
        return 0

    client = SmppClient(
        "127.0.0.1", port, "smsgate", "sim", "transceiver", window=window, on_deliver=on_deliver
    )
    await client.start()
    await client.wait_bound(10)
    remaining = messages
    acked = 0
    pdu_fields = {
        "source_addr": "SMSGATE",
        "registered_delivery": 1 if receipts else 0,
        "short_message": b"benchmark message text, fifty octets long ........",
    }

    async def worker(n: int) -> None:
        nonlocal remaining, acked
        while remaining > 0:
            remaining -= 1
            pdu = SubmitSm(destination_addr=f"38050{n:03d}{remaining % 10000:04d}8", **pdu_fields)
            response = await client.submit(pdu)
            if response.command_status == 0:
                acked += 1

    client_cpu0, server_cpu0 = cpu_seconds(os.getpid()), cpu_seconds(server_pid)
    client_wait0, server_wait0 = runqueue_wait(os.getpid()), runqueue_wait(server_pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(window * 2)))
    acked_at = time.perf_counter()
    if receipts:
        await asyncio.wait_for(done.wait(), 120)
    finished = time.perf_counter()
    client_cpu, server_cpu = cpu_seconds(os.getpid()), cpu_seconds(server_pid)
    client_wait, server_wait = runqueue_wait(os.getpid()), runqueue_wait(server_pid)
    await client.close()
    return {
        "wall": finished - started,
        "client_wait": client_wait - client_wait0,
        "server_wait": server_wait - server_wait0,
        "client_us": (client_cpu - client_cpu0) / messages * 1e6,
        "server_us": (server_cpu - server_cpu0) / messages * 1e6,
        "acked": acked,
        "receipts": received,
        "acked_per_s": acked / (acked_at - started),
        "messages_per_s": messages / (finished - started),
    }


def run_node(
    port: int, server_pid: int, messages: int, window: int, receipts: bool
) -> dict[str, float] | None:
    script = NODE_DIR / "esme.js"
    if shutil.which("node") is None or not (NODE_DIR / "node_modules" / "smpp").exists():
        return None
    args = {
        "port": port,
        "system_id": "smsgate",
        "password": "sim",
        "bind": "transceiver",
        "count": messages,
        "window": window,
        "template": {
            "source_addr": "SMSGATE",
            "registered_delivery": 1 if receipts else 0,
            "short_message": {"text": "benchmark message text, fifty octets long ........"},
        },
        "quiet": True,
    }
    server_cpu0, server_wait0 = cpu_seconds(server_pid), runqueue_wait(server_pid)
    out = subprocess.run(
        ["node", str(script), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    server_cpu = cpu_seconds(server_pid) - server_cpu0
    server_wait = runqueue_wait(server_pid) - server_wait0
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    elapsed = summary["elapsed"]
    return {
        "wall": elapsed,
        "client_wait": float("nan"),
        "server_wait": server_wait,
        "client_us": float("nan"),  # the node process is gone by now; not measured
        "server_us": server_cpu / messages * 1e6,
        "acked": summary["acked"],
        "receipts": summary["receipts"],
        "acked_per_s": summary["acked"] / summary["acked_elapsed"],
        "messages_per_s": messages / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--skip-node", action="store_true")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    loop_name = use_uvloop()
    print(f"machine: {machine()}; event loop: {loop_name}")
    print(f"load average before the run: {os.getloadavg()[0]:.2f}")
    print(f"one bind, window {args.window}, {args.messages} messages per run;")
    print("client and simulator are two processes sharing the same cores")
    rows: list[tuple[str, str, dict[str, float] | None]] = []
    for receipts in (False, True):
        proc, port = start_server()
        try:
            ours = asyncio.run(run_ours(port, proc.pid, args.messages, args.window, receipts))
            theirs = None
            if not args.skip_node:
                theirs = run_node(port, proc.pid, args.messages, args.window, receipts)
        finally:
            proc.terminate()
            proc.wait(10)
        label = "receipts on" if receipts else "receipts off"
        rows.append(("smsgate client", label, ours))
        rows.append(("node smpp 0.5.1", label, theirs))
    print(
        f"{'client':<18}{'receipts':<14}{'acked':>9}{'receipts':>10}{'acked/s':>10}{'msg/s':>10}"
        f"{'client µs/msg':>15}{'server µs/msg':>15}"
    )
    for name, label, r in rows:
        if r is None:
            print(f"{name:<18}{label:<14}{'(node smpp not installed)':>49}")
            continue
        print(
            f"{name:<18}{label:<14}{r['acked']:>9.0f}{r['receipts']:>10.0f}"
            f"{r['acked_per_s']:>10.0f}{r['messages_per_s']:>10.0f}"
            f"{r['client_us']:>15.1f}{r['server_us']:>15.1f}"
        )
    print("time each side spent runnable but waiting for a CPU (other jobs), of the wall time:")
    for name, label, r in rows:
        if r is not None:
            print(
                f"  {name}, {label}: wall {r['wall']:.2f} s, client waited"
                f" {r['client_wait']:.2f} s, server waited {r['server_wait']:.2f} s"
            )
    for label_index, label in ((0, "receipts off"), (2, "receipts on")):
        ours_row, node_row = rows[label_index][2], rows[label_index + 1][2]
        if ours_row and node_row:
            ratio = ours_row["messages_per_s"] / node_row["messages_per_s"]
            print(f"ratio smsgate/node, {label}: {ratio:.2f}")
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
