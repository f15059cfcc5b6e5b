"""The soak (issue 22): N messages end to end through `make run`'s setup — `smsgate serve --demo`
on SQLite with its in-process simulator as the operator — at a steady rate, sampling the node
over time: its RSS, its CPU, the simulator's counters, and the accept latency.

What it checks at the end: every message accepted is stored and reaches a final status,
nothing stays reserved, money is conserved, the node's RSS never went above --max-rss MB, no
simulator counter kept growing (destinations tracked, outcomes kept, receipts pending), and
it prints the p99 accept latency of the first and the last tenth of the requests. Exit status
1 if a check failed. Run it under `nice -n 19` on a shared machine; figures go to
bench/RELIABILITY.md with the command that made them.

    nice -n 19 .venv/bin/python bench/soak.py --messages 1000000 --rate 800
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import SMSGATE, cpu_seconds, free_port, machine, rss_mb

TOP_UP = 100_000_000  # enough that money never refuses a send
DEMO_START = 1000  # what the demo account starts with
FINAL = ("DELIVRD", "EXPIRED", "UNDELIV", "REJECTD")
_PREFIXES = ("38050", "38066", "38095", "38099", "38067", "38068", "38097", "38098", "38063")


@dataclass
class Node:
    """`smsgate serve --demo` in a temp directory: SQLite under ./var, the simulator in-process
    (its control port open, so its counters can be read), ports of our choosing."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="smsgate-soak-")))
    http_port: int = field(default_factory=free_port)
    control_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def db(self) -> Path:
        return self.workdir / "var" / "smsgate.db"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMSGATE_")}
        env.update(
            SMSGATE_HTTP__PORT=str(self.http_port),
            SMSGATE_SMPP__PORT=str(free_port()),
            SMSGATE_SIMULATOR__PORT=str(free_port()),
            SMSGATE_SIMULATOR__CONTROL_PORT=str(self.control_port),
        )
        return env

    def start(self) -> None:
        log = (self.workdir / "gateway.log").open("ab")
        self.proc = subprocess.Popen(
            [SMSGATE, "serve", "--demo"],
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env(),
        )

    async def wait_ready(self, timeout: float = 120) -> dict[str, str]:
        creds = self.workdir / "var" / "demo-credentials.json"
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the node exited; see {self.workdir / 'gateway.log'}")
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get(f"http://127.0.0.1:{self.http_port}/health")
                    if r.status_code == 200 and b'"bound":true' in r.content and creds.exists():
                        data: dict[str, str] = json.loads(creds.read_text())
                        return data
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the node did not start; see {self.workdir / 'gateway.log'}")

    def top_up(self, amount: int) -> None:
        subprocess.run(
            [SMSGATE, "admin", "balance", "top-up", "demo", str(amount)],
            cwd=self.workdir,
            env=self.env(),
            check=True,
            capture_output=True,
        )

    async def simulator_counters(self) -> dict[str, object]:
        async with httpx.AsyncClient(timeout=5) as client:
            r = await client.get(f"http://127.0.0.1:{self.control_port}/counters")
            data: dict[str, object] = r.json()
            return data

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Load:
    """Streams of /sms/send, `batch` new numbers each, paced to `rate` messages per second
    overall (a stream that falls behind sends at once: the rate is then what the node takes)."""

    base: str
    token: str
    total: int
    rate: float
    batch: int
    until: float = float("inf")  # monotonic time after which no batch is sent
    accepted: int = 0
    refused: int = 0  # recipients refused inside a 200 answer
    answers: dict[str, int] = field(default_factory=dict)
    bodies: dict[str, str] = field(default_factory=dict)
    latencies: array[float] = field(default_factory=lambda: array("d"))
    _sent: int = 0

    def phones(self) -> list[str] | None:
        if self._sent >= self.total or time.monotonic() >= self.until:
            return None
        count = min(self.batch, self.total - self._sent)
        out = []
        for n in range(self._sent, self._sent + count):
            # Valid Ukrainian mobile numbers, each used once; ending in 8 keeps clear of the
            # simulator's magic endings 0001-0007.
            out.append(f"{_PREFIXES[n // 1_000_000 % len(_PREFIXES)]}{n % 1_000_000:06d}8")
        self._sent += count
        return out

    async def stream(self, client: httpx.AsyncClient, started: float) -> None:
        while (phones := self.phones()) is not None:
            # This batch's place in the overall schedule.
            due = started + (self._sent - len(phones)) / self.rate
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            body = {"phone": phones, "message": "soak", "src_addr": "smsgate"}
            sent = time.monotonic()
            try:
                r = await client.post("/sms/send", json=body)
            except httpx.HTTPError as error:
                self._count("transport", type(error).__name__)
                await asyncio.sleep(0.1)
                continue
            self.latencies.append(time.monotonic() - sent)
            if r.status_code != 200:
                self._count(str(r.status_code), r.text[:200])
                await asyncio.sleep(0.1)
                continue
            self._count("200", "")
            answer = r.json().get("success_request", {})
            self.accepted += len(answer.get("info", {}))
            if "add_info" in answer:
                self.refused += len(answer["add_info"])
                self.bodies.setdefault("add_info", str(answer["add_info"])[:200])

    def _count(self, key: str, body: str) -> None:
        self.answers[key] = self.answers.get(key, 0) + 1
        if body:
            self.bodies.setdefault(key, body)


def p99_ms(values: array[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else 0.0


def read_db(path: Path) -> tuple[dict[str, int], tuple[int, int, int]]:
    """Messages per status, and the demo account's (balance, reserved, charged)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)) as c:
        statuses = dict(c.execute("SELECT status, count(*) FROM messages GROUP BY status"))
        row = c.execute(
            "SELECT balance, reserved, charged FROM accounts WHERE login = 'demo'"
        ).fetchone()
    return statuses, (int(row[0]), int(row[1]), int(row[2]))


@dataclass
class Sample:
    at: float  # seconds since the load started
    accepted: int
    rss_mb: float
    cpu_s: float
    destinations: int
    outcomes: int
    pending_receipts: int

    def line(self) -> str:
        return (
            f"t={self.at:7.0f}s accepted={self.accepted:>9,} rss={self.rss_mb:6.1f} MB "
            f"cpu={self.cpu_s:7.1f} s sim: destinations={self.destinations} "
            f"outcomes={self.outcomes} pending_receipts={self.pending_receipts}"
        )


async def sample(node: Node, load: Load, started: float) -> Sample:
    assert node.proc is not None
    counters = await node.simulator_counters()
    outcomes = counters.get("outcomes", {})
    return Sample(
        time.monotonic() - started,
        load.accepted,
        rss_mb(node.proc.pid),
        cpu_seconds(node.proc.pid),
        int(counters.get("destinations", 0)),  # type: ignore[call-overload]
        len(outcomes) if isinstance(outcomes, dict) else 0,
        int(counters.get("pending_receipts", 0)),  # type: ignore[call-overload]
    )


async def wait_final(node: Node, accepted: int, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        statuses, _ = read_db(node.db)
        if statuses.get("ENROUTE", 0) == 0 and sum(statuses.values()) >= accepted:
            return statuses
        if time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(2.0)


async def soak(args: argparse.Namespace) -> int:
    node = Node()
    print(f"workdir {node.workdir}", flush=True)
    node.start()
    try:
        creds = await node.wait_ready()
        node.top_up(TOP_UP)
        load = Load(f"http://127.0.0.1:{node.http_port}", creds["token"], args.messages,
                    args.rate, args.batch)  # fmt: skip
        samples: list[Sample] = []
        headers = {"Authorization": f"Bearer {load.token}"}
        limits = httpx.Limits(max_connections=args.streams)
        async with httpx.AsyncClient(
            base_url=load.base, headers=headers, timeout=30, limits=limits
        ) as client:
            started = time.monotonic()
            if args.seconds > 0:
                load.until = started + args.seconds
            streams = [
                asyncio.create_task(load.stream(client, started)) for _ in range(args.streams)
            ]
            while not all(s.done() for s in streams):
                samples.append(await sample(node, load, started))
                print(samples[-1].line(), flush=True)
                await asyncio.wait(streams, timeout=args.every)
            await asyncio.gather(*streams)
            took = time.monotonic() - started
            samples.append(await sample(node, load, started))
            print(samples[-1].line(), flush=True)
        statuses = await wait_final(node, load.accepted, args.final_timeout)
        samples.append(await sample(node, load, started))
        print("after final:", samples[-1].line(), flush=True)
        _, (balance, reserved, charged) = read_db(node.db)
    finally:
        node.stop()

    stored = sum(statuses.values())
    never_final = statuses.get("ENROUTE", 0)
    conserved = balance + reserved + charged == (DEMO_START + TOP_UP) * 10_000
    tenth = max(1, len(load.latencies) // 10)
    first, last = load.latencies[:tenth], load.latencies[-tenth:]
    # Flat: the last tenth of the run's samples against the second (the first holds the
    # start-up, before SQLite's cache and the interpreter's arenas fill).
    part = max(1, len(samples) // 10)
    rss_early = max(s.rss_mb for s in samples[part : 2 * part] or samples[:1])
    rss_late = max(s.rss_mb for s in samples[-part:])
    # Growing: higher at the end than anywhere in the middle of the run (a bounded counter
    # has reached its bound by then; the simulator tracks 100,000 destinations at most).
    middle = samples[len(samples) // 2 : -part] or samples[:1]
    growing = {
        name: (getattr(middle[0], name), getattr(samples[-1], name))
        for name in ("destinations", "outcomes", "pending_receipts")
        if getattr(samples[-1], name) > max(getattr(s, name) for s in middle)
    }
    figures = {
        "messages asked": args.messages,
        "accepted": load.accepted,
        "refused recipients": load.refused,
        "answers": load.answers,
        "stored": stored,
        "statuses": statuses,
        "never final": never_final,
        "money conserved": conserved,
        "reserved left": reserved,
        "seconds": f"{took:.0f}",
        "rate": f"{load.accepted / took:.0f} msg/s",
        "node CPU s": f"{samples[-1].cpu_s:.0f}",
        "RSS MB first/max/last": f"{samples[0].rss_mb:.0f}/"
        f"{max(s.rss_mb for s in samples):.0f}/{samples[-1].rss_mb:.0f}",
        "RSS MB 2nd tenth max / last tenth max": f"{rss_early:.0f}/{rss_late:.0f}",
        "p99 accept ms first/last tenth": f"{p99_ms(first):.0f}/{p99_ms(last):.0f}",
        "requests": len(load.latencies),
        "simulator counters growing": growing,
    }
    if load.bodies:
        figures["bodies"] = load.bodies
    ok = (
        load.accepted > 0
        and stored == load.accepted
        and never_final == 0
        and reserved == 0
        and conserved
        and max(s.rss_mb for s in samples) <= args.max_rss
        and not growing
    )
    print(
        f"[soak] {'ok' if ok else 'FAILED'}: " + ", ".join(f"{k} {v}" for k, v in figures.items())
    )
    if args.samples:
        Path(args.samples).write_text(json.dumps([s.__dict__ for s in samples]))
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=800.0, help="messages per second overall")
    parser.add_argument("--batch", type=int, default=10, help="numbers per /sms/send")
    parser.add_argument(
        "--seconds",
        type=float,
        default=0.0,
        help="stop sending after this long even if fewer messages went (0: no limit); the "
        "figures then name the messages actually accepted",
    )
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--max-rss", type=float, default=250.0, help="MB")
    parser.add_argument("--final-timeout", type=float, default=300.0)
    parser.add_argument("--samples", default="", help="write the samples as JSON to this file")
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    print(f"command: {' '.join(sys.argv)}", flush=True)
    sys.exit(asyncio.run(soak(args)))


if __name__ == "__main__":
    main()
