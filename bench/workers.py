"""Issue #6 on this machine, load generator included: `smsgate serve --workers N` on one SQLite
file, and 1..N separate nodes on one PostgreSQL.

  .venv/bin/python bench/workers.py                    # every run below
  .venv/bin/python bench/workers.py --only send        # [1] only
  .venv/bin/python bench/workers.py --only e2e --messages 50000
  .venv/bin/python bench/workers.py --only pg --nodes 1,2,3

[1] send: `serve --workers 2` on SQLite, 1-recipient /sms/send under wrk -t2 -c32 (the Lua script
    of bench/http_send.py): requests/s answered 200 with the message accepted. `--connectors 0`
    accepts only (no operator: what Kannel's "into memory" figure compares with).
[2] e2e: the same node, 100-recipient requests paced as bench/e2e.py sends them (4 keep-alive
    connections); a message counts only once the database shows it DELIVRD; messages/s from
    the first send to the last DELIVRD stored.
[3] pg: the same end-to-end run against 1, 2, 3 node processes (one config each: its own HTTP
    port, node id and connector) on one PostgreSQL, a throwaway cluster on a free port (fsync
    on), once per synchronous_commit value, set per database: `on` (the server's default: every
    commit waits for its WAL flush, ~4 ms on this disk) and `off` (a PostgreSQL crash may lose
    the last ~0.6 s of commits, a node's crash none: the class of SQLite's NORMAL, which the
    SQLite runs use). The senders split the messages and the pace evenly across the nodes.

The operator is `smsgate simulator` in a process of its own (receipt delay 0.5 s); every run gets
a fresh database, and the demo account is created before any node starts (--demo is not used:
with --workers it also starts an in-process simulator in the supervisor). CPU is read from /proc
for every process: the supervisor, each worker or node, the simulator, PostgreSQL (postmaster
and its backends) and the load generator itself (this process, or wrk). Nothing in src/ changes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import json
import os
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import send_paced
from harness import SMSGATE, children, cpu_seconds, free_port, machine, peak_rss_mb
from http_send import LUA

from smsgate.gateway.demo_account import ensure_demo_account
from smsgate.store.sql_store import SqlStore

# -- processes -------------------------------------------------------------------------------


def cpu_or_zero(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except OSError:
        return 0.0


@dataclass
class Simulator:
    workdir: Path
    receipt_delay: float = 0.5
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.workdir / "simulator.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [SMSGATE, "simulator", "--port", str(self.port), "--credential", "smsgate:sim",
             "--receipt-delay", str(self.receipt_delay)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def node_config(db_url: str, http_port: int, node_id: int, connectors: list[str], sim: int) -> str:
    text = f'node_id = {node_id}\n[database]\nurl = "{db_url}"\n'
    text += f"[http]\nport = {http_port}\n[smpp]\nenabled = false\n"
    for name in connectors:
        text += (
            f'[[connectors]]\nname = "{name}"\nhost = "127.0.0.1"\nport = {sim}\n'
            'system_id = "smsgate"\npassword = "sim"\nwindow = 64\n'
        )
    return text


@dataclass
class Server:
    """One `smsgate serve` process: a node, or a supervisor of --workers N nodes."""

    name: str
    workdir: Path
    config: str
    http_port: int
    node_id: int = 0
    workers: int = 1
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        path = self.workdir / f"{self.name}.toml"
        path.write_text(self.config)
        args = [SMSGATE, "serve", "--config", str(path)]
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        log = open(self.workdir / f"{self.name}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(args, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def processes(self) -> dict[str, int]:
        """name -> pid of the processes that do this server's work (workers under a supervisor;
        multiprocessing's resource tracker, if any, is left out)."""
        if self.workers == 1:
            return {self.name: self.pid}
        found = {f"{self.name} supervisor": self.pid}
        for pid in sorted(children(self.pid)):
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found[f"{self.name} worker {len(found) - 1}"] = pid
        return found

    def health(self) -> dict[str, object] | None:
        try:
            with socket.create_connection(("127.0.0.1", self.http_port), timeout=1) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
        except OSError:
            return None
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            return None
        report: dict[str, object] = json.loads(body)
        return report

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_ready(servers: list[Server], bound: int, timeout: float = 60) -> None:
    """Every node answers /health (each worker of a supervisor seen once, on fresh
    connections) and `bound` connectors are bound across them."""
    deadline = time.time() + timeout
    want = {(s.name, s.node_id + n) for s in servers for n in range(s.workers)}
    seen: dict[tuple[str, int], int] = {}
    while time.time() < deadline:
        for s in servers:
            report = s.health()
            if report is not None:
                connectors = report["connectors"]
                assert isinstance(connectors, dict)
                key = (s.name, int(str(report["node_id"])))
                seen[key] = sum(1 for c in connectors.values() if c["bound"])
        if set(seen) >= want and sum(seen.values()) >= bound:
            return
        for s in servers:
            if s.proc is not None and s.proc.poll() is not None:
                raise RuntimeError(f"{s.name} exited; see {s.workdir / (s.name + '.log')}")
        time.sleep(0.05)
    raise RuntimeError(f"nodes not ready after {timeout}s: {seen}; see {servers[0].workdir}")


async def make_demo_account(db_url: str, workdir: Path) -> str:
    store = SqlStore(db_url)
    await store.open()
    try:
        creds = await ensure_demo_account(store, workdir / "demo-credentials.json")
        account = await store.credentials("demo")
        assert account is not None
        await store.top_up(account.account.id, 10**13)  # no recipient is refused for money
    finally:
        await store.close()
    return creds.token


# -- PostgreSQL ------------------------------------------------------------------------------


def _pg_binary(name: str) -> str:
    found = (
        shutil.which(name) or (sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [""])[-1]
    )
    if not found:
        raise SystemExit(f"PostgreSQL's {name} is needed (make postgres-deps)")
    return found


def _as_postgres() -> list[str]:
    """initdb and postgres refuse to run as root (as tests/store/conftest.py does it)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return ["runuser", "-u", "postgres", "--"]


@contextlib.contextmanager
def pg_cluster() -> Iterator[tuple[int, Path]]:
    """A throwaway cluster on a free port with default durability; (port, data dir)."""
    prefix = _as_postgres()
    root = Path(tempfile.mkdtemp(prefix="smsgate-bench-pg-"))
    if prefix:
        shutil.chown(root, user="postgres")
    data, port = root / "data", free_port()
    subprocess.run(
        [*prefix, _pg_binary("initdb"), "-D", str(data), "-U", "smsgate", "--auth=trust",
         "-E", "UTF8"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} "
        "-c max_connections=200"
    )
    pg_ctl = _pg_binary("pg_ctl")
    subprocess.run(
        [*prefix, pg_ctl, "-D", str(data), "-l", str(root / "pg.log"), "-w", "-o", options,
         "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield port, data
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


def postmaster_pid(data: Path) -> int:
    return int((data / "postmaster.pid").read_text().split()[0])


# -- measuring -------------------------------------------------------------------------------


def cpu_table(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_or_zero(pid) for name, pid in pids.items()}


def cpu_report(before: dict[str, float], after: dict[str, float], per: int) -> str:
    parts = []
    for name, end in after.items():
        used = end - before.get(name, 0.0)
        parts.append(f"{name} {used:.1f} s ({used / max(1, per) * 1e6:.0f} µs/msg)")
    return "; ".join(parts)


def postgres_pids(data: Path) -> dict[str, int]:
    master = postmaster_pid(data)
    return {"postgres": master, **{f"postgres backend {p}": p for p in children(master)}}


def summed_postgres(cpu: dict[str, float]) -> dict[str, float]:
    """PostgreSQL's processes as one line (backends come and go)."""
    out = {k: v for k, v in cpu.items() if not k.startswith("postgres")}
    out["postgresql (all)"] = sum(v for k, v in cpu.items() if k.startswith("postgres"))
    return out


async def delivered_sqlite(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        row = conn.execute("SELECT count(*) FROM messages WHERE status = 'DELIVRD'").fetchone()
    return int(row[0])


async def delivered_pg(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM messages WHERE status = 'DELIVRD'"))
    finally:
        await conn.close()


def run_wrk(port: int, token: str, seconds: int, connections: int) -> tuple[str, float]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is required: apt-get install wrk")
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(LUA % {"token": token, "recipients": 1, "seed": int(time.time())})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    script.unlink()
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, used


async def e2e(
    servers: list[Server], token: str, messages: int, rate: float, connections: int,
    delivered: Callable[[], Awaitable[int]], pids: dict[str, int],
) -> str:  # fmt: skip
    """Paced 100-recipient sends split evenly across `servers`; completion from the DB."""
    share = [messages // len(servers) + (1 if i < messages % len(servers) else 0)
             for i in range(len(servers))]  # fmt: skip
    per_node = max(2, -(-connections // len(servers)))
    cpu0, own0 = cpu_table(pids), time.process_time()
    started = time.perf_counter()
    reports = await asyncio.gather(
        *(
            send_paced(s.http_port, token, n, rate * n / messages, connections=per_node,
                       tag=f"node{i}")
            for i, (s, n) in enumerate(zip(servers, share, strict=True))
        )
    )  # fmt: skip
    sent_at = time.perf_counter()
    accepted = sum(r.accepted for r in reports)
    rejected = sum(r.rejected for r in reports)
    failed = sum(r.failed_requests for r in reports)
    deadline = time.perf_counter() + max(120.0, messages / 300)
    count = 0
    while time.perf_counter() < deadline:
        count = await delivered()
        if count >= accepted:
            break
        await asyncio.sleep(0.2)
    done_at = time.perf_counter()
    own = time.process_time() - own0
    cpu = cpu_table(pids)
    cpu["load generator (this process)"] = own
    cpu0["load generator (this process)"] = 0.0
    if any(k.startswith("postgres") for k in cpu):
        cpu, cpu0 = summed_postgres(cpu), summed_postgres(cpu0)
    latencies = sorted(x for r in reports for x in r.latencies)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000 if latencies else 0
    elapsed = done_at - started
    status = "all DELIVRD" if count >= accepted else f"ONLY {count} DELIVRD (timed out)"
    return (
        f"{accepted} accepted ({rejected} rejected, {failed} failed requests) in "
        f"{sent_at - started:.1f} s = {accepted / (sent_at - started):.0f}/s against a pace of "
        f"{rate:.0f}/s, request p99 {p99:.0f} ms; {status} {elapsed:.1f} s after the first send: "
        f"**{count / elapsed:.0f} messages/s completed**\n    CPU: "
        + cpu_report(cpu0, cpu, accepted)
    )


# -- the runs --------------------------------------------------------------------------------


def sqlite_node(workdir: Path, workers: int, connectors: int, sim: Simulator) -> tuple[Server, str]:
    url = f"sqlite+aiosqlite:///{workdir}/smsgate.db"
    token = asyncio.run(make_demo_account(url, workdir))
    port = free_port()
    names = [f"sim{n}" for n in range(connectors)]
    server = Server("gateway", workdir, node_config(url, port, 0, names, sim.port), port,
                    workers=workers)  # fmt: skip
    server.start()
    wait_ready([server], bound=connectors)
    return server, token


def run_sqlite(args: argparse.Namespace, which: str) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="smsgate-bench-workers-"))
    sim = Simulator(workdir)
    sim.start()
    server, token = sqlite_node(workdir, args.workers, args.connectors, sim)
    try:
        pids = {**server.processes(), "simulator": sim.proc.pid}  # type: ignore[union-attr]
        print(f"  work dir {workdir}; processes {pids}", flush=True)
        if which == "send":
            cpu0 = cpu_table(pids)
            out, wrk_cpu = run_wrk(server.http_port, token, args.seconds, args.connections)
            cpu = cpu_table(pids)
            cpu["wrk"], cpu0["wrk"] = wrk_cpu, 0.0
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
            total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            p99 = re.search(r"99%\s+([\d.]+\w+)", out)
            stored = sqlite_count(workdir / "smsgate.db")
            print(
                f"[1] --workers {args.workers} SQLite, {args.connectors} connector(s), /sms/send"
                f" 1 recipient, wrk -t2 -c{args.connections} "
                f"{args.seconds} s: **{rps:.0f} req/s**, p99 {p99.group(1) if p99 else '?'}, "
                f"non-2xx {errors.group(1) if errors else 0}, {stored} messages stored for "
                f"{total} requests\n    CPU: {cpu_report(cpu0, cpu, total)}"
                f"\n    peak RSS: "
                + ", ".join(f"{n} {peak_rss_mb(p):.0f} MB" for n, p in server.processes().items())
            )
        else:
            db = workdir / "smsgate.db"
            line = asyncio.run(
                e2e([server], token, args.messages, args.rate, 4, partial(delivered_sqlite, db),
                    pids)
            )  # fmt: skip
            print(f"[2] --workers {args.workers} SQLite, end to end: {line}")
    finally:
        server.stop()
        sim.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def sqlite_count(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])


def run_pg(args: argparse.Namespace) -> None:
    with pg_cluster() as (port, data):
        for commit in args.pg_commit:
            for count in args.nodes:
                run_pg_nodes(args, port, data, count, commit)


def run_pg_nodes(args: argparse.Namespace, port: int, data: Path, count: int, commit: str) -> None:
    database = f"bench{count}_{commit}"
    for sql in (
        f'CREATE DATABASE "{database}"',
        f'ALTER DATABASE "{database}" SET synchronous_commit = {commit}',
    ):
        subprocess.run(
            [_pg_binary("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "smsgate", "-d",
             "postgres", "-qc", sql],
            check=True, capture_output=True,
        )  # fmt: skip
    url = f"postgresql+asyncpg://smsgate@127.0.0.1:{port}/{database}"
    workdir = Path(tempfile.mkdtemp(prefix="smsgate-bench-pg-nodes-"))
    token = asyncio.run(make_demo_account(url, workdir))
    sim = Simulator(workdir)
    sim.start()
    servers = []
    for k in range(count):
        http = free_port()
        config = node_config(url, http, k, [f"sim{k}"], sim.port)
        servers.append(Server(f"node{k}", workdir, config, http, node_id=k))
    try:
        for s in servers:
            s.start()
        wait_ready(servers, bound=count)
        pids = {n: p for s in servers for n, p in s.processes().items()}
        pids["simulator"] = sim.proc.pid  # type: ignore[union-attr]
        pids |= postgres_pids(data)
        plain = url.replace("+asyncpg", "")
        line = asyncio.run(
            e2e(servers, token, args.pg_messages, args.rate, 4, partial(delivered_pg, plain), pids)
        )
        print(
            f"[3] {count} node(s) on PostgreSQL, synchronous_commit={commit}, end to end: {line}",
            flush=True,
        )
    finally:
        for s in servers:
            s.stop()
        sim.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--only", choices=["send", "e2e", "pg"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--connectors", type=int, default=1, help="SQLite runs: operator binds in the config"
    )
    parser.add_argument("--seconds", type=int, default=10, help="wrk run [1]")
    parser.add_argument("--connections", type=int, default=32, help="wrk's, run [1]")
    parser.add_argument("--messages", type=int, default=100_000, help="runs [2] and [3]")
    parser.add_argument("--rate", type=float, default=7_000.0, help="pace, messages/s")
    parser.add_argument("--keep", action="store_true", help="keep each run's work dir")
    parser.add_argument("--pg-messages", type=int, default=30_000, help="run [3]")
    parser.add_argument(
        "--pg-commit",
        type=lambda s: s.split(","),
        default=["on", "off"],
        help="synchronous_commit values to run [3] with (on: the server's default, durable)",
    )
    parser.add_argument("--nodes", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 3])
    args = parser.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at the start")
    print("every process here (nodes, simulator, PostgreSQL, load generator) shares these cores")
    if args.only in (None, "send"):
        run_sqlite(args, "send")
    if args.only in (None, "e2e"):
        run_sqlite(args, "e2e")
    if args.only in (None, "pg"):
        run_pg(args)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
