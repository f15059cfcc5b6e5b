"""A customer over smsgate's SMPP door, end to end: one transceiver bind, window 64, every
submit_sm asking for a receipt; the node (`smsgate serve --demo`) sends each to the simulator,
stores its receipt and pumps it back to the customer as deliver_sm. Prints messages/s from the
first submit_sm to the last receipt, CPU µs per message of the gateway and of the simulator,
and the gateway's peak RSS; checks that every accepted message got exactly one receipt whose
receipted_message_id is the id its submit_sm_resp carried, and none came before that response.

    cd bench && ../.venv/bin/python smpp_door.py --messages 30000 [--client node] [--workers 2]

`--workers 2` runs `smsgate serve --workers 2`: the door on worker 0, the operator connector
on worker 1 (worker 0 leaves connectors to the others first); gateway CPU is the sum of the
workers' and RSS the largest worker's.

The customer is our own SmppClient; `--client node` runs node `smpp` 0.5.1 instead
(tests/interop/node, when installed) as a cross-check. It changes nothing in src/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e import message_statuses, phone
from harness import ROOT, GatewayProcess, cpu_seconds, machine, peak_rss_mb, use_uvloop

from smsgate.smpp.client import SmppClient
from smsgate.smpp.constants import ESM_DELIVERY_RECEIPT, Tag
from smsgate.smpp.pdu import DataSm, DeliverSm, SubmitSm

NODE_DIR = ROOT / "tests" / "interop" / "node"
TEXT = "door benchmark text"


@dataclass(slots=True)
class Tally:
    """What the customer saw: ids from submit_sm_resp, receipts by receipted_message_id."""

    acked: set[str] = field(default_factory=set)
    refused: dict[int, int] = field(default_factory=dict)  # command_status -> count
    receipts: dict[str, int] = field(default_factory=dict)  # receipted id -> times received
    early: int = 0  # receipts whose id no submit_sm_resp had carried yet
    not_receipts: int = 0  # deliver_sm without the receipt esm_class or the TLV
    started: float = 0.0
    acked_at: float = 0.0
    finished: float = 0.0

    def check(self) -> list[str]:
        problems = []
        missing = self.acked - self.receipts.keys()
        unknown = self.receipts.keys() - self.acked
        twice = sum(1 for n in self.receipts.values() if n > 1)
        if missing:
            problems.append(f"{len(missing)} accepted messages got no receipt")
        if unknown:
            problems.append(f"{len(unknown)} receipts for ids no submit_sm_resp carried")
        if twice:
            problems.append(f"{twice} ids received more than one receipt")
        if self.early:
            problems.append(f"{self.early} receipts arrived before their submit_sm_resp")
        if self.not_receipts:
            problems.append(f"{self.not_receipts} deliver_sm were not receipts")
        if self.refused:
            problems.append(f"refused submits by command_status: {self.refused}")
        return problems


async def run_ours(
    port: int, login: str, password: str, messages: int, window: int, trace: bool = False
) -> Tally:
    tally = Tally()
    all_in = asyncio.Event()

    def on_deliver(pdu: DeliverSm | DataSm) -> int:
        rid = pdu.tlvs.get(Tag.RECEIPTED_MESSAGE_ID)
        if not pdu.esm_class & ESM_DELIVERY_RECEIPT or not isinstance(rid, str):
            tally.not_receipts += 1
            return 0
        if rid not in tally.acked:
            tally.early += 1
        tally.receipts[rid] = tally.receipts.get(rid, 0) + 1
        if len(tally.receipts) >= messages:
            all_in.set()
        return 0

    client = SmppClient(
        "127.0.0.1", port, login, password, "transceiver", window=window, on_deliver=on_deliver
    )
    await client.start()
    await client.wait_bound(10)
    next_n = 0

    async def worker() -> None:
        nonlocal next_n
        while next_n < messages:
            n = next_n
            next_n += 1
            pdu = SubmitSm(
                source_addr="smsgate",
                destination_addr=phone(n),
                registered_delivery=1,
                short_message=TEXT.encode(),
            )
            response = await client.submit(pdu)
            if response.command_status == 0:
                tally.acked.add(getattr(response, "message_id", ""))
            else:
                status = response.command_status
                tally.refused[status] = tally.refused.get(status, 0) + 1

    tally.started = time.perf_counter()
    tracer = asyncio.ensure_future(_trace(tally)) if trace else None
    # Twice the window of submitters: a slot freed by a response is taken at once.
    await asyncio.gather(*(worker() for _ in range(window * 2)))
    tally.acked_at = time.perf_counter()
    if len(tally.acked) > len(tally.receipts):
        expected = len(tally.acked)
        while len(tally.receipts) < expected:
            try:
                await asyncio.wait_for(all_in.wait(), 1.0)
            except TimeoutError:
                if time.perf_counter() - tally.acked_at > max(60.0, messages / 500):
                    break
    tally.finished = time.perf_counter()
    if tracer is not None:
        tracer.cancel()
    await client.close()
    return tally


async def _trace(tally: Tally) -> None:
    """Every half second: how many submits were answered and receipts came so far."""
    while True:
        await asyncio.sleep(0.5)
        t = time.perf_counter() - tally.started
        print(f"  t={t:5.1f}s acked {len(tally.acked):>7} receipts {len(tally.receipts):>7}")


def run_node(port: int, login: str, password: str, messages: int, window: int) -> Tally | None:
    """node smpp 0.5.1 through tests/interop/node/esme.js; its per-PDU lines carry the ids.
    The messages go in a file (distinct numbers, so none is a duplicate), read by a shim."""
    if shutil.which("node") is None or not (NODE_DIR / "node_modules" / "smpp").exists():
        return None
    batch = [
        {
            "source_addr": "smsgate",
            "destination_addr": phone(n),
            "registered_delivery": 1,
            "short_message": {"text": TEXT},
        }
        for n in range(messages)
    ]
    args = {
        "port": port,
        "system_id": login,
        "password": password,
        "bind": "transceiver",
        "window": window,
        "timeout_ms": int(max(120.0, messages / 200) * 1000),
    }
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "messages.json"
        data.write_text(json.dumps(batch))
        # esme.js takes its messages on the command line, too long for argv here: a shim puts
        # them into the JSON it parses.
        shim = Path(tmp) / "shim.js"
        shim.write_text(
            "const fs = require('fs');\n"
            "const a = JSON.parse(process.argv[2]);\n"
            "a.messages = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));\n"
            "process.argv = [process.argv[0], process.argv[1], JSON.stringify(a)];\n"
            f"module.paths.unshift({json.dumps(str(NODE_DIR / 'node_modules'))});\n"
            f"require({json.dumps(str(NODE_DIR / 'esme.js'))});\n"
        )
        t0 = time.perf_counter()
        out = subprocess.run(
            ["node", str(shim), json.dumps(args), str(data)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    tally = Tally(started=t0)
    summary: dict[str, object] = {}
    for line in out.stdout.splitlines():
        event = json.loads(line)
        kind = event["event"]
        if kind == "submit_resp":
            if event["command_status"] == 0:
                tally.acked.add(event["message_id"])
            else:
                s = event["command_status"]
                tally.refused[s] = tally.refused.get(s, 0) + 1
        elif kind == "deliver_sm":
            rid = event.get("receipted_message_id")
            if not event["esm_class"] & ESM_DELIVERY_RECEIPT or not isinstance(rid, str):
                tally.not_receipts += 1
                continue
            if rid not in tally.acked:
                tally.early += 1
            tally.receipts[rid] = tally.receipts.get(rid, 0) + 1
        elif kind == "summary":
            summary = event
    if not summary:
        raise RuntimeError(f"node esme gave no summary: {out.stderr[-2000:]}")
    # The figures are node's own clock from bind to the last receipt.
    elapsed = float(summary["elapsed"])  # type: ignore[arg-type]
    tally.started = 0.0
    tally.acked_at = float(summary["acked_elapsed"])  # type: ignore[arg-type]
    tally.finished = elapsed
    if summary.get("timeout"):
        print("node esme timed out before every receipt came")
    return tally


def _spy(pid: int, workdir: Path, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy on one node process (each worker under --workers), raw samples for flamegraphs."""
    out = workdir / f"node-{pid}.raw"
    print(f"py-spy on node {pid} for {seconds:.0f} s -> {out}", flush=True)
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "-p",
            str(pid),
            "-d",
            str(round(seconds)),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(out),
            "--nonblocking",
        ],
        stdout=open(workdir / f"py-spy-{pid}.log", "wb"),
        stderr=subprocess.STDOUT,
    )


def run(
    messages: int, window: int, client: str, profile: float, trace: bool, workers: int = 1
) -> int:
    loop_name = use_uvloop()
    print(f"machine: {machine()}; client event loop: {loop_name}")
    print(f"load average before the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"customer: {client}, one transceiver bind, window {window}, {messages} submit_sm "
        "with registered_delivery=1; customer, gateway and simulator share the cores"
        + (f"; smsgate serve --workers {workers}" if workers > 1 else "")
    )
    gw = GatewayProcess(receipt_delay=0.0, workers=workers)
    gw.start()
    spies: list[subprocess.Popen[bytes]] = []
    try:
        gw.top_up(str(messages))  # 1.0000 a message: twice the price of one part
        creds = gw.credentials
        assert gw.simulator is not None
        print(f"gateway pid {gw.pid}, work dir {gw.workdir}", flush=True)
        node_cpu0 = {pid: cpu_seconds(pid) for pid in gw.node_pids()}
        sim_cpu0 = cpu_seconds(gw.simulator.pid)
        me0 = time.process_time()
        if profile:
            spies = [_spy(pid, gw.workdir, profile) for pid in gw.node_pids()]
        if client == "node":
            tally = run_node(gw.smpp_port, creds["login"], creds["smpp_password"], messages, window)
            if tally is None:
                print("node smpp is not installed (tests/interop/node)")
                return 2
        else:
            tally = asyncio.run(
                run_ours(
                    gw.smpp_port,
                    creds["login"],
                    creds["smpp_password"],
                    messages,
                    window,
                    trace,
                )
            )
        node_cpu = [cpu_seconds(pid) - cpu0 for pid, cpu0 in node_cpu0.items()]
        gw_cpu = sum(node_cpu)
        sim_cpu = cpu_seconds(gw.simulator.pid) - sim_cpu0
        me = time.process_time() - me0
        rss = max(peak_rss_mb(pid) for pid in gw.node_pids())
        statuses = message_statuses(gw.workdir / "smsgate.db")
        for spy in spies:
            spy.wait(profile + 30)
    finally:
        for spy in spies:
            if spy.poll() is None:
                spy.terminate()
        gw.stop()
    elapsed = tally.finished - tally.started
    acked = len(tally.acked)
    print(
        f"acked {acked} of {messages} in {tally.acked_at - tally.started:.2f} s "
        f"({acked / (tally.acked_at - tally.started):.0f} submit_sm/s); "
        f"receipts {sum(tally.receipts.values())} for {len(tally.receipts)} ids"
    )
    print(f"message statuses in the store: {statuses}")
    print(
        f"[smpp door] {acked} messages end to end in {elapsed:.2f} s: "
        f"{acked / elapsed:.0f} messages/s; gateway {gw_cpu / acked * 1e6:.0f} µs CPU/message"
        + (
            f" ({' + '.join(f'{c / acked * 1e6:.0f}' for c in node_cpu)} by worker), "
            if workers > 1
            else ", "
        )
        + f"gateway busy {gw_cpu / elapsed:.2f} cores, "
        f"simulator {sim_cpu / acked * 1e6:.0f} µs, "
        + (f"customer {me / acked * 1e6:.0f} µs, " if client == "ours" else "")
        + f"gateway peak RSS {rss:.0f} MB"
    )
    print(f"load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    problems = tally.check()
    for p in problems:
        print(f"PROBLEM: {p}")
    if not problems:
        print("every accepted message got exactly one receipt with its submit_sm_resp's id")
    return 1 if problems else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--client", choices=("ours", "node"), default="ours")
    parser.add_argument(
        "--profile", type=float, default=0.0, help="seconds of py-spy on each gateway node process"
    )
    parser.add_argument("--trace", action="store_true", help="progress every half second")
    parser.add_argument("--workers", type=int, default=1, help="smsgate serve --workers N")
    args = parser.parse_args()
    sys.exit(run(args.messages, args.window, args.client, args.profile, args.trace, args.workers))


if __name__ == "__main__":
    main()
