"""Our SMPP server against a minimal one, in one run: the same independent ESME (a small
`struct` client below, sharing no code with smsgate) binds once, keeps a window of submit_sm
in flight and answers every receipt, first against bench/peer_sink.py (a ~200-line asyncio
SMSC), then against `smsgate simulator` (our smpp/ server with the simulator's handler), in
turns. Both servers send each receipt at once (--receipt-delay 0).

Printed per server (medians over the turns): submit_sm acked per second and receipts per
second (wall, as the ESME sees them), and the server process's CPU per submit_sm (user+sys
from /proc, which other jobs on the machine disturb far less than the rates); then our
server's figures as ratios of the minimal one's. `--no-receipts`: submit_sm asks for none,
and only the acks are timed.

    .venv/bin/python bench/smpp_server.py --messages 100000 --turns 3 [--no-receipts]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, SMSGATE, cpu_seconds, free_port, machine, use_uvloop

HEADER = struct.Struct(">IIII")
BIND_TRANSCEIVER, SUBMIT_SM, DELIVER_SM = 0x09, 0x04, 0x05
RESP = 0x80000000
SYSTEM_ID, PASSWORD = b"esme", b"pw"


def submit_body(n: int, receipt: bool = True) -> bytes:
    text = b"Hello from the bench, message %d" % n
    return b"".join(
        (
            b"\0",  # service_type
            b"\x05\x00Bench\0",  # source ton, npi, addr
            # Ends in 8: never one of the simulator's magic endings (0001-0007).
            b"\x01\x0138050%07d\0" % ((n * 10 + 8) % 10_000_000),
            b"\x00\x00\x00",  # esm_class, protocol_id, priority
            b"\0\0",  # schedule_delivery_time, validity_period
            # registered_delivery (a receipt, or none), replace, coding, default id
            b"\x01\x00\x00\x00" if receipt else b"\x00\x00\x00\x00",
            bytes((len(text),)),
            text,
        )
    )


class Esme(asyncio.Protocol):
    """One bind; `window` submits in flight; every deliver_sm answered at once. `receipts`:
    each submit_sm asks for one, and the run ends when all have come."""

    def __init__(self, messages: int, window: int, receipts: bool) -> None:
        self.messages = messages
        self.window = window
        self.receipts = receipts
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.sent = self.acked = self.received = 0
        self.bound = asyncio.Event()
        self.done = asyncio.Event()
        self.acked_at = 0.0
        self.received_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        body = SYSTEM_ID + b"\0" + PASSWORD + b"\0" + b"\0\x34\x00\x00\0"
        transport.write(HEADER.pack(16 + len(body), BIND_TRANSCEIVER, 0, 1) + body)  # type: ignore[attr-defined]

    def start(self) -> None:
        self.send(self.window)

    def send(self, count: int) -> None:
        out = []
        while count > 0 and self.sent < self.messages:
            self.sent += 1
            body = submit_body(self.sent, self.receipts)
            out.append(HEADER.pack(16 + len(body), SUBMIT_SM, 0, self.sent + 1) + body)
            count -= 1
        if out and self.transport is not None:
            self.transport.write(b"".join(out))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        at = 0
        answers = []
        acked = 0
        while len(buffer) - at >= 16:
            length, command, status, sequence = HEADER.unpack_from(buffer, at)
            if len(buffer) - at < length:
                break
            if command == SUBMIT_SM | RESP:
                assert status == 0, f"submit_sm_resp status {status:#x}"
                acked += 1
            elif command == DELIVER_SM:
                self.received += 1
                answers.append(HEADER.pack(17, DELIVER_SM | RESP, 0, sequence) + b"\0")
            elif command == BIND_TRANSCEIVER | RESP:
                assert status == 0, f"bind refused: {status:#x}"
                self.bound.set()
            at += length
        del buffer[:at]
        if answers and self.transport is not None:
            self.transport.write(b"".join(answers))
        if acked:
            self.acked += acked
            if self.acked == self.messages:
                self.acked_at = time.perf_counter()
            self.send(acked)
        if self.received and self.received == self.messages and not self.received_at:
            self.received_at = time.perf_counter()
        if self.acked == self.messages and (not self.receipts or self.received >= self.messages):
            self.done.set()


async def drive(
    port: int, server_pid: int, messages: int, window: int, receipts: bool = True
) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    esme = Esme(messages, window, receipts)
    transport, _ = await loop.create_connection(lambda: esme, "127.0.0.1", port)
    try:
        await asyncio.wait_for(esme.bound.wait(), 10)
        cpu = cpu_seconds(server_pid)
        own = time.process_time()
        started = time.perf_counter()
        esme.start()
        await asyncio.wait_for(esme.done.wait(), 600)
        server_cpu = cpu_seconds(server_pid) - cpu
        client_cpu = time.process_time() - own
    finally:
        transport.close()
    return {
        "acked_per_s": messages / (esme.acked_at - started),
        "receipts_per_s": messages / (esme.received_at - started) if receipts else 0.0,
        "server_us_per_msg": server_cpu / messages * 1e6,
        "client_us_per_msg": client_cpu / messages * 1e6,
    }


def start(kind: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    if kind == "minimal":
        command = [
            sys.executable,
            str(ROOT / "bench" / "peer_sink.py"),
            "--port",
            str(port),
            "--receipt-delay",
            "0",
            "--stats",
            str(workdir / "sink.json"),
        ]
    else:
        command = [
            SMSGATE,
            "simulator",
            "--port",
            str(port),
            "--credential",
            f"{SYSTEM_ID.decode()}:{PASSWORD.decode()}",
            "--receipt-delay",
            "0",
        ]
    log = open(workdir / f"{kind}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while time.time() < deadline:
        with contextlib.suppress(OSError):
            import socket

            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"the {kind} server did not start; see {workdir / (kind + '.log')}")


def turn(kind: str, messages: int, window: int, receipts: bool, workdir: Path) -> dict[str, float]:
    port = free_port()
    proc = start(kind, port, workdir)
    try:
        return asyncio.run(drive(port, proc.pid, messages, window, receipts))
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument(
        "--receipts", action=argparse.BooleanOptionalAction, default=True, help="ask for them"
    )
    args = parser.parse_args()
    loop_name = use_uvloop()
    workdir = Path(tempfile.mkdtemp(prefix="smpp-server-"))
    results: dict[str, list[dict[str, float]]] = {"minimal": [], "smsgate": []}
    for _ in range(args.turns):
        for kind in results:
            results[kind].append(turn(kind, args.messages, args.window, args.receipts, workdir))
    print(machine(), f"ESME on {loop_name}, load {os.getloadavg()[0]:.1f}")
    each_one = "a receipt for each" if args.receipts else "no receipts"
    print(f"{args.messages:,} submit_sm, one bind, window {args.window}, {each_one}")
    medians: dict[str, dict[str, float]] = {}
    for kind, runs in results.items():
        medians[kind] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        m = medians[kind]
        each = " / ".join(f"{r['acked_per_s']:,.0f}" for r in runs)
        print(
            f"{kind:8} acked {m['acked_per_s']:>8,.0f}/s ({each}), receipts "
            f"{m['receipts_per_s']:>8,.0f}/s, server CPU {m['server_us_per_msg']:.1f} µs/msg, "
            f"ESME {m['client_us_per_msg']:.1f} µs/msg"
        )
    ours, theirs = medians["smsgate"], medians["minimal"]
    receipts = (
        f"receipts {ours['receipts_per_s'] / theirs['receipts_per_s']:.2f}, "
        if args.receipts
        else ""
    )
    print(
        f"smsgate / minimal: acked {ours['acked_per_s'] / theirs['acked_per_s']:.2f}, "
        f"{receipts}server CPU per msg "
        f"{ours['server_us_per_msg'] / theirs['server_us_per_msg']:.2f}"
    )


if __name__ == "__main__":
    main()
