"""The reliability campaign (issue 22): a gateway in a subprocess under load, and the things that
go wrong in production done to it; each trial checks that nothing accepted is lost, that every
accepted message reaches a final status, that money is conserved, and prints its figures.

Trials (pick with --only, repeat kills with --kills):
  kill       kill -9 of a node under load, restarted (by us, or by the --workers supervisor);
             parts resent to the operator per kill, against the connector's window
  operator   the operator killed under load and restarted empty: its receipts are lost, so
             the parts it took end by query_sm (it does not know them any more) and expiry
  faults     operator faults from the simulator under load (throttling, queue full, lost,
             slow and malformed answers, early and unknown receipts), then cleared
  locked     the SQLite file locked by another process for a few seconds under load
  diskfull   the SQLite file on a full file system (a small tmpfs; needs mount rights)
  pgrestart  PostgreSQL restarted under load
  soak       N messages end to end; the node's RSS and the send latency, first vs last tenth

The simulator runs in this process (so it can be killed and its counters outlive it); the
gateway is `smsgate serve --demo` with that simulator as its one connector. `--quick` is the
bounded version `make test` runs (tests/e2e/test_reliability.py). Exit status 1 if a check
failed. Figures go to bench/RELIABILITY.md by hand, with the command that made them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import SMSGATE, children, free_port, machine, rss_mb

from smsgate.simulator import Simulator, SimulatorConfig, running_simulator

FINAL = {"DELIVRD", "EXPIRED", "UNDELIV", "REJECTD"}
TOP_UP = 10_000_000  # in the account's currency: enough that money never refuses a send
DEMO_START = 1000  # what the demo account starts with
_PREFIXES = ("38050", "38066", "38095", "38099", "38067", "38068", "38097", "38098", "38063")


# -- the operator: an in-process simulator that can be killed and started again ----------------


class Operator:
    """The simulator on a fixed port; `kill()` drops it with every receipt it still owed,
    `start()` brings up an empty one. Submits per destination are summed over its lives."""

    def __init__(self, window: int, receipt_delay: float) -> None:
        self.port = free_port()
        self.window = window
        self.receipt_delay = receipt_delay
        self.seen: Counter[str] = Counter()
        self._stack: contextlib.AsyncExitStack | None = None
        self.sim: Simulator | None = None

    async def start(self) -> None:
        config = SimulatorConfig(
            port=self.port,
            receipt_delay=self.receipt_delay,
            window=self.window,
            track_destinations=10_000_000,
        )
        self._stack = contextlib.AsyncExitStack()
        self.sim = await self._stack.enter_async_context(running_simulator(config))

    async def kill(self) -> None:
        if self.sim is not None:
            self.seen.update(self.sim.counters.by_destination)
        if self._stack is not None:
            await self._stack.aclose()
        self.sim = self._stack = None

    def counts(self) -> Counter[str]:
        total = Counter(self.seen)
        if self.sim is not None:
            total.update(self.sim.counters.by_destination)
        return total


# -- the gateway in a subprocess --------------------------------------------------------------


@dataclass
class Gateway:
    workdir: Path
    db_url: str
    operator: Operator
    workers: int = 1
    window: int = 64
    lifetime_minutes: float = 0.5
    http_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    first_start: float = 0.0  # seconds from the first Popen to ready, to compare restarts with

    @property
    def config(self) -> Path:
        return self.workdir / "smsgate.toml"

    def write_config(self) -> None:
        self.config.write_text(
            f"""
default_lifetime_minutes = {self.lifetime_minutes}
[database]
url = "{self.db_url}"
[http]
port = {self.http_port}
[smpp]
enabled = false
[dispatch]
retry_backoff = 0.1
retry_backoff_max = 1.0
receipt_watch_every = 1.0
receipt_grace = 2.0
[[connectors]]
name = "sim"
host = "127.0.0.1"
port = {self.operator.port}
system_id = "smsgate"
password = "sim"
window = {self.window}
response_timeout = 1.0
query_after = 3.0
"""
        )

    def start(self) -> None:
        self.write_config()
        log = (self.workdir / "gateway.log").open("ab")
        self.proc = subprocess.Popen(
            [SMSGATE, "serve", "--demo", "--config", str(self.config)]
            + (["--workers", str(self.workers)] if self.workers > 1 else []),
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if not k.startswith("SMSGATE_")},
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def credentials(self) -> dict[str, str] | None:
        # Beside a SQLite file (wherever it is), else ./var (smsgate.config.state_dir).
        places = [self.workdir / "var"]
        if self.db_url.startswith("sqlite"):
            places.insert(0, Path(self.db_url.split(":///", 1)[1]).parent)
        for path in (place / "demo-credentials.json" for place in places):
            if path.exists():
                data: dict[str, str] = json.loads(path.read_text())
                return data
        return None

    async def wait_ready(self, timeout: float = 60) -> float:
        """Seconds until /health answers 200 with the connector bound somewhere."""
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=self.base, timeout=2) as client:
            while time.monotonic() - started < timeout:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"gateway exited; see {self.workdir / 'gateway.log'}")
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get("/health")
                    if r.status_code == 200 and self.credentials() is not None:
                        return time.monotonic() - started
                await asyncio.sleep(0.05)
        raise RuntimeError(f"gateway not ready in {timeout} s; see {self.workdir / 'gateway.log'}")

    def starts(self) -> list[str]:
        """Node ids logged at each node's (or worker's) start, in order."""
        with contextlib.suppress(OSError):
            text = (self.workdir / "gateway.log").read_text(errors="replace")
            return re.findall(r"node id (\d+) \(lease holder", text)
        return []

    def node_pids(self) -> list[int]:
        assert self.proc is not None
        if self.workers == 1:
            return [self.proc.pid]
        found = []
        for pid in sorted(children(self.proc.pid)):
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
        return found

    def top_up(self, amount: int) -> None:
        subprocess.run(
            [
                SMSGATE,
                "admin",
                "balance",
                "top-up",
                "demo",
                str(amount),
                "--config",
                str(self.config),
            ],
            check=True,
            capture_output=True,
            cwd=self.workdir,
        )

    async def stop(self) -> None:
        """SIGTERM, waited for with the loop free: the node's unbind is answered by the
        simulator in this loop (a blocking wait cost each stop ~10 s of the unbind's timeout)."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.to_thread(proc.wait), 30)
            except TimeoutError:
                proc.kill()
                await asyncio.to_thread(proc.wait)


# -- load and checks --------------------------------------------------------------------------


@dataclass
class Load:
    """Streams of /sms/send with unique phones; what was accepted and how the rest was refused."""

    gateway: Gateway
    token: str
    tag: int
    accepted: dict[str, str] = field(default_factory=dict)  # id -> phone
    answers: Counter[str] = field(default_factory=Counter)  # "200", "500", "transport", ...
    bodies: dict[str, str] = field(default_factory=dict)  # one body per non-200 status
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (when, seconds)
    _sent: int = 0
    _stop: bool = False

    def phone(self) -> str:
        self._sent += 1
        # Valid Ukrainian mobile numbers; ending in 8 keeps clear of the simulator's magic
        # endings 0001-0007.
        prefix = _PREFIXES[(self.tag + self._sent // 1_000_000) % len(_PREFIXES)]
        return f"{prefix}{self._sent % 1_000_000:06d}8"

    async def stream(self, client: httpx.AsyncClient, batch: int, pause: float) -> None:
        while not self._stop:
            phones = [self.phone() for _ in range(batch)]
            body = {"phone": phones, "message": "reliability", "src_addr": "smsgate"}
            started = time.monotonic()
            try:
                r = await client.post("/sms/send", json=body)
            except httpx.HTTPError as error:
                self.answers["transport"] += 1
                self.bodies.setdefault("transport", type(error).__name__)
                await asyncio.sleep(0.05)  # the node is down: do not spin
                continue
            self.latencies.append((started, time.monotonic() - started))
            self.answers[str(r.status_code)] += 1
            if r.status_code != 200:
                self.bodies.setdefault(str(r.status_code), r.text[:200])
                await asyncio.sleep(0.05)
                continue
            answer = r.json().get("success_request", {})
            self.accepted.update(answer.get("info", {}))
            if "add_info" in answer:
                self.answers["refused recipients"] += len(answer["add_info"])
                self.bodies.setdefault("add_info", str(answer["add_info"])[:200])
            if pause:
                await asyncio.sleep(pause)

    @contextlib.asynccontextmanager
    async def running(
        self, streams: int = 4, batch: int = 5, pause: float = 0.0
    ) -> AsyncIterator[None]:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.gateway.base, headers=headers, timeout=10) as c:
            tasks = [asyncio.create_task(self.stream(c, batch, pause)) for _ in range(streams)]
            try:
                yield
            finally:
                self._stop = True
                await asyncio.gather(*tasks, return_exceptions=True)
                self._stop = False


async def wait_final(
    gateway: Gateway, token: str, ids: list[str], timeout: float
) -> dict[str, str]:
    """Statuses of `ids` once all are final (or whatever they are at the timeout)."""
    final: dict[str, str] = {}
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=gateway.base, headers=headers, timeout=10) as client:
        while time.monotonic() < deadline:
            pending = [i for i in ids if i not in final]
            if not pending:
                break
            for start in range(0, len(pending), 100):
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    r = await client.post(
                        "/sms/status", json={"id_sms": pending[start : start + 100]}
                    )
                    info = r.json()["success_request"].get("info", {})
                    final.update({k: v for k, v in info.items() if v in FINAL})
            await asyncio.sleep(0.3)
    return final


async def money(gateway: Gateway) -> tuple[int, int, int]:
    """(balance, reserved, charged) of the demo account, in ten-thousandths."""
    if gateway.db_url.startswith("sqlite"):
        path = gateway.db_url.split(":///", 1)[1]
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as c:
            row = c.execute(
                "SELECT balance, reserved, charged FROM accounts WHERE login = 'demo'"
            ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])
    import asyncpg

    url = gateway.db_url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT balance, reserved, charged FROM accounts WHERE login = 'demo'"
        )
    finally:
        await conn.close()
    return int(row[0]), int(row[1]), int(row[2])


async def ledger_adds_up(gateway: Gateway) -> bool:
    """Whether every account's balance is the sum of its ledger (`smsgate admin balance
    check`'s proof), read while the gateway runs."""
    from smsgate.store.sql_store import SqlStore

    store = SqlStore(gateway.db_url)
    await store.open()
    try:
        return all(c.ok for c in await store.ledger_check())
    finally:
        await store.close()


@dataclass
class Result:
    trial: str
    ok: bool
    figures: dict[str, object]

    def line(self) -> str:
        shown = ", ".join(f"{k} {v}" for k, v in self.figures.items())
        return f"[{self.trial}] {'ok' if self.ok else 'FAILED'}: {shown}"


async def settle(
    name: str,
    gateway: Gateway,
    token: str,
    load: Load,
    topped: int,
    timeout: float,
    **figures: object,
) -> Result:
    """The checks every trial ends with: every accepted id final, nothing reserved, money
    conserved, every balance the sum of its ledger."""
    ids = list(load.accepted)
    started = time.monotonic()
    final = await wait_final(gateway, token, ids, timeout)
    took = time.monotonic() - started
    balance, reserved, charged = await money(gateway)
    conserved = balance + reserved + charged == (DEMO_START + topped) * 10_000
    ledger = await ledger_adds_up(gateway)
    never = len(ids) - len(final)
    ok = never == 0 and reserved == 0 and conserved and ledger and len(ids) > 0
    statuses = Counter(final.values())
    return Result(
        name,
        ok,
        {
            "accepted": len(ids),
            "never final": never,
            "statuses": dict(statuses),
            "final after": f"{took:.1f} s",
            "money conserved": conserved,
            "balance == sum(ledger)": ledger,
            "reserved left": reserved,
            "answers": dict(load.answers),
            **figures,
        },
    )


# -- trials -----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def setup(
    db_url: str | None,
    *,
    workers: int = 1,
    window: int = 64,
    receipt_delay: float = 0.05,
    lifetime_minutes: float = 0.5,
) -> AsyncIterator[tuple[Gateway, Operator, str]]:
    workdir = Path(tempfile.mkdtemp(prefix="smsgate-reliability-"))
    operator = Operator(window, receipt_delay)
    await operator.start()
    url = db_url or f"sqlite+aiosqlite:///{workdir}/smsgate.db"
    gateway = Gateway(workdir, url, operator, workers=workers, window=window,
                      lifetime_minutes=lifetime_minutes)  # fmt: skip
    gateway.start()
    try:
        gateway.first_start = await gateway.wait_ready()
        gateway.top_up(TOP_UP)
        creds = gateway.credentials()
        assert creds is not None
        yield gateway, operator, creds["token"]
    finally:
        await gateway.stop()
        await operator.kill()


async def trial_kill(
    db_url: str | None, engine: str, workers: int, kills: int, seconds: float
) -> Result:
    async with setup(db_url, workers=workers) as (gateway, operator, token):
        load = Load(gateway, token, tag=10 + workers)
        twice_before: list[int] = []  # destinations the operator saw more than once
        restarts: list[float] = []

        def twice() -> int:
            return sum(1 for n in operator.counts().values() if n > 1)

        async with load.running():
            for _ in range(kills):
                await asyncio.sleep(seconds)
                twice_before.append(twice())
                victim = gateway.node_pids()[0]
                starts = len(gateway.starts())
                os.kill(victim, signal.SIGKILL)
                killed_at = time.monotonic()
                if workers == 1:
                    assert gateway.proc is not None
                    gateway.proc.wait(10)
                    gateway.start()
                    restarts.append(await gateway.wait_ready())
                else:
                    # The supervisor restarts its worker; the other keeps serving meanwhile.
                    # The next kill waits for the new worker's start (it releases the killed
                    # one's claims then), so each kill's resends fall before the next kill.
                    while len(gateway.starts()) < starts + 1:
                        assert time.monotonic() - killed_at < 120, "no worker started again"
                        await asyncio.sleep(0.05)
                    restarts.append(time.monotonic() - killed_at)
                await asyncio.sleep(2.0)
            await asyncio.sleep(3.0)
        # Parts resent because of each kill: destinations first seen twice between it and
        # the next kill (or the end).
        marks = [*twice_before, twice()]
        resent = [b - a for a, b in itertools.pairwise(marks)]
        result = await settle(
            f"kill -9, {engine}, workers {workers}", gateway, token, load, TOP_UP, 120,
            kills=kills,
            **{
                "resent per kill (max)": max(resent),
                "resent per kill": resent,
                "window": gateway.window,
                ("serving again after (max)" if workers == 1
                 else "worker started again after (max)"): f"{max(restarts):.1f} s",
                "first start took": f"{gateway.first_start:.1f} s",
            },
        )  # fmt: skip
        result.figures["destinations sent twice"] = marks[-1]
        return result


async def trial_operator(db_url: str | None, seconds: float, lifetime: float) -> Result:
    """The operator dies under load with receipts owed and comes back empty; the node is
    killed with kill -9 while the operator is down, and started again after it."""
    async with setup(db_url, receipt_delay=1.0, lifetime_minutes=lifetime) as (
        gateway,
        operator,
        token,
    ):
        load = Load(gateway, token, tag=20)
        async with load.running():
            await asyncio.sleep(seconds)
            await operator.kill()  # every receipt it still owed is gone
            assert gateway.proc is not None
            os.kill(gateway.proc.pid, signal.SIGKILL)  # and the node's unwritten answers
            gateway.proc.wait(10)
            await asyncio.sleep(1.0)
            await operator.start()
            gateway.start()
            restarted = await gateway.wait_ready()
            await asyncio.sleep(seconds)
        return await settle(
            "operator and node killed, receipts lost", gateway, token, load, TOP_UP, 150,
            **{"node serving again after": f"{restarted:.1f} s"},
        )  # fmt: skip


async def trial_faults(db_url: str | None, seconds: float) -> Result:
    async with setup(db_url) as (gateway, operator, token):
        load = Load(gateway, token, tag=30)
        faults: dict[str, float | int] = {
            "throttle_rate": 0.03,
            "queue_full_rate": 0.03,
            "lost_rate": 0.02,
            "malformed_rate": 0.02,
            "slow_rate": 0.03,
            "slow_delay": 0.5,
            "early_receipt_rate": 0.05,
            "unknown_receipt_rate": 0.02,
            "drop_after": 1500,  # the connection dropped mid-window every 1,500 submits
        }
        async with load.running():
            assert operator.sim is not None
            operator.sim.set_faults(**faults)
            await asyncio.sleep(seconds)
            operator.sim.set_faults(**{name: 0 for name in faults if name.endswith("_rate")})
            operator.sim.set_faults(drop_after=-1)
            await asyncio.sleep(1.0)
        counted = dict(operator.sim.counters.faults) if operator.sim is not None else {}
        return await settle("operator faults", gateway, token, load, TOP_UP, 120, faults=counted)


async def fault_answers(gateway: Gateway, creds: dict[str, str]) -> dict[str, str]:
    """One send through each door while the database is in trouble: status and body."""
    seen: dict[str, str] = {}
    phone = "380509990008"
    stamp = time.time()  # a text of its own each time: not answered as a duplicate
    async with httpx.AsyncClient(base_url=gateway.base, timeout=15) as c:
        calls: dict[str, Callable[[], object]] = {
            "json": lambda: c.post(
                "/sms/send",
                headers={"Authorization": f"Bearer {creds['token']}"},
                json={"phone": [phone], "message": f"json {stamp}", "src_addr": "smsgate"},
            ),
            "http": lambda: c.get(
                "/token/",
                params={
                    "username": "demo",
                    "token": creds["token"],
                    "from": "smsgate",
                    "to": phone,
                    "text": f"http {stamp}",
                },
            ),
            "xml": lambda: c.post(
                "/xml/",
                content=(
                    '<?xml version="1.0" encoding="utf-8"?><request_sendsms><username>demo'
                    f"</username><password>{creds['password']}</password><from>smsgate</from>"
                    f"<to>{phone}</to><text>xml {stamp}</text></request_sendsms>"
                ),
            ),
        }
        for door, call in calls.items():
            try:
                r = await call()  # type: ignore[misc]
                seen[door] = f"{r.status_code} {r.text[:120]!r}"
            except httpx.HTTPError as error:
                seen[door] = type(error).__name__
    return seen


async def trial_locked(seconds: float, lock_for: float) -> Result:
    async with setup(None) as (gateway, _operator, token):
        creds = gateway.credentials()
        assert creds is not None
        load = Load(gateway, token, tag=40)
        path = gateway.db_url.split(":///", 1)[1]
        async with load.running():
            await asyncio.sleep(seconds)
            locker = sqlite3.connect(path, timeout=30, isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")
            try:
                await asyncio.sleep(0.5)
                probe = asyncio.create_task(fault_answers(gateway, creds))
                await asyncio.sleep(lock_for)
            finally:
                locker.execute("COMMIT")
                locker.close()
            during = await probe
            unlocked = time.monotonic()
            before = len(load.accepted)
            while len(load.accepted) == before and time.monotonic() - unlocked < 30:
                await asyncio.sleep(0.05)
            recovered = time.monotonic() - unlocked
            await asyncio.sleep(seconds)
        return await settle(
            "SQLite file locked", gateway, token, load, TOP_UP, 120,
            **{"locked for": f"{lock_for:.0f} s", "doors while locked": during,
               "accepting again after": f"{recovered:.1f} s", "bodies": load.bodies},
        )  # fmt: skip


async def trial_diskfull(seconds: float) -> Result:
    mount = Path(tempfile.mkdtemp(prefix="smsgate-full-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        return Result(
            "disk full", False, {"not run": f"cannot mount a tmpfs: {done.stderr.strip()}"}
        )
    try:
        async with setup(f"sqlite+aiosqlite:///{mount}/smsgate.db") as (gateway, _op, token):
            creds = gateway.credentials()
            assert creds is not None
            load = Load(gateway, token, tag=50)
            filler = mount / "filler"
            async with load.running():
                await asyncio.sleep(seconds)
                # Unbuffered: a buffered file would write its tail again at close (ENOSPC).
                with filler.open("wb", buffering=0) as f, contextlib.suppress(OSError):
                    while True:
                        f.write(b"\0" * (1 << 20))
                await asyncio.sleep(1.0)
                probe = asyncio.create_task(fault_answers(gateway, creds))
                await asyncio.sleep(max(seconds, 3.0))
                filler.unlink()
                during = await probe
                freed = time.monotonic()
                before = len(load.accepted)
                while len(load.accepted) == before and time.monotonic() - freed < 30:
                    await asyncio.sleep(0.05)
                recovered = time.monotonic() - freed
                await asyncio.sleep(seconds)
            return await settle(
                "disk full", gateway, token, load, TOP_UP, 120,
                **{"doors while full": during, "accepting again after": f"{recovered:.1f} s",
                   "bodies": load.bodies},
            )  # fmt: skip
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


async def trial_pgrestart(url: str, restart: Callable[[], None], seconds: float) -> Result:
    async with setup(url) as (gateway, _operator, token):
        creds = gateway.credentials()
        assert creds is not None
        load = Load(gateway, token, tag=60)
        async with load.running():
            await asyncio.sleep(seconds)
            restarting = asyncio.create_task(asyncio.to_thread(restart))
            await asyncio.sleep(0.3)
            during = await fault_answers(gateway, creds)
            await restarting
            restarted = time.monotonic()
            before = len(load.accepted)
            while len(load.accepted) == before and time.monotonic() - restarted < 60:
                await asyncio.sleep(0.05)
            recovered = time.monotonic() - restarted
            await asyncio.sleep(seconds)
        return await settle(
            "PostgreSQL restarted", gateway, token, load, TOP_UP, 120,
            **{"doors while restarting": during, "accepting again after": f"{recovered:.1f} s",
               "bodies": load.bodies},
        )  # fmt: skip


async def trial_soak(messages: int, rate: float) -> Result:
    async with setup(None, lifetime_minutes=60) as (gateway, operator, token):
        load = Load(gateway, token, tag=70)
        rss: list[float] = []
        started = time.monotonic()
        batch, streams = 10, 4
        pause = streams * batch / rate
        async with load.running(streams=streams, batch=batch, pause=pause):
            while len(load.accepted) < messages:
                rss.append(sum(rss_mb(p) for p in gateway.node_pids()))
                await asyncio.sleep(1.0)
        took = time.monotonic() - started
        tenth = max(1, len(load.latencies) // 10)

        def p99(samples: list[tuple[float, float]]) -> float:
            values = sorted(s for _, s in samples)
            return values[int(len(values) * 0.99)] * 1000

        sim_tracked = len(operator.sim.counters.by_destination) if operator.sim else 0
        result = await settle(
            "soak", gateway, token, load, TOP_UP, 300,
            **{"rate": f"{len(load.accepted) / took:.0f} msg/s", "seconds": f"{took:.0f}",
               "RSS MB first/max/last": f"{rss[0]:.0f}/{max(rss):.0f}/{rss[-1]:.0f}",
               "p99 ms first/last tenth": f"{p99(load.latencies[:tenth]):.0f}/"
               f"{p99(load.latencies[-tenth:]):.0f}",
               "simulator destinations tracked": sim_tracked},
        )  # fmt: skip
        result.ok = result.ok and max(rss) <= 250
        return result


# -- PostgreSQL -------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres() -> AsyncIterator[tuple[str, Callable[[], None]]]:  # type: ignore[misc]
    """A throwaway cluster (bench/workers.py's); a fresh database URL and a restart."""
    from workers import _as_postgres, _pg_binary, pg_cluster

    with pg_cluster() as (port, data):
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "smsgate", "-d", "postgres", "-c",
             "CREATE DATABASE reliability"], check=False, capture_output=True,
        )  # fmt: skip
        url = f"postgresql+asyncpg://smsgate@127.0.0.1:{port}/reliability"

        def restart() -> None:
            # With a log file of its own: the restarted server would otherwise keep our
            # captured stdout open, and this call would wait for it forever.
            pg_ctl = _pg_binary("pg_ctl")
            subprocess.run(
                [*_as_postgres(), pg_ctl, "-D", str(data), "-l", str(data.parent / "pg.log"),
                 "-m", "fast", "-w", "restart"],
                check=True,
                capture_output=True,
            )  # fmt: skip

        yield url, restart


async def create_database(url: str) -> None:
    import asyncpg

    admin = url.replace("postgresql+asyncpg", "postgresql").rsplit("/", 1)[0] + "/postgres"
    conn = await asyncpg.connect(admin)
    try:
        with contextlib.suppress(asyncpg.DuplicateDatabaseError):
            await conn.execute("CREATE DATABASE reliability")
    finally:
        await conn.close()


async def drop_database(url: str) -> None:
    import asyncpg

    admin = url.replace("postgresql+asyncpg", "postgresql").rsplit("/", 1)[0] + "/postgres"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute("DROP DATABASE IF EXISTS reliability WITH (FORCE)")
    finally:
        await conn.close()


# -- the campaign -----------------------------------------------------------------------------

TRIALS = ("kill", "operator", "faults", "locked", "diskfull", "pgrestart", "soak")


async def campaign(args: argparse.Namespace) -> int:
    only = set(args.only.split(",")) if args.only else set(TRIALS)
    engines = args.engines.split(",")
    results: list[Result] = []

    def report(result: Result) -> None:
        results.append(result)
        print(result.line(), flush=True)

    pg: contextlib.ExitStack | None = None
    pg_url = ""
    restart: Callable[[], None] = lambda: None  # noqa: E731
    if "postgresql" in engines and only & {"kill", "pgrestart"}:
        pg = contextlib.ExitStack()
        pg_url, restart = pg.enter_context(postgres())
    try:
        for engine in engines:
            if "kill" in only:
                for workers in args.workers:
                    if engine == "postgresql":
                        await create_database(pg_url)
                    try:
                        url = pg_url if engine == "postgresql" else None
                        trial = trial_kill(url, engine, workers, args.kills, args.seconds)
                        report(await trial)
                    finally:
                        if engine == "postgresql":
                            await drop_database(pg_url)
        if "operator" in only:
            report(await trial_operator(None, args.seconds, args.lifetime))
        if "faults" in only:
            report(await trial_faults(None, args.seconds * 2))
        if "locked" in only:
            report(await trial_locked(args.seconds, args.lock_seconds))
        if "diskfull" in only:
            report(await trial_diskfull(args.seconds))
        if "pgrestart" in only and pg_url:
            await create_database(pg_url)
            try:
                report(await trial_pgrestart(pg_url, restart, args.seconds))
            finally:
                await drop_database(pg_url)
        if "soak" in only:
            report(await trial_soak(args.soak_messages, args.soak_rate))
    finally:
        if pg is not None:
            pg.close()
    failed = [r for r in results if not r.ok]
    print(f"{len(results)} trials, {len(failed)} failed", flush=True)
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help=f"comma-separated trials of {', '.join(TRIALS)}")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2])
    parser.add_argument("--kills", type=int, default=20, help="kills per engine and worker count")
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="load before and after each event"
    )
    parser.add_argument(
        "--lock-seconds", type=float, default=12.0, help="longer than SQLite's busy timeout (10 s)"
    )
    parser.add_argument(
        "--lifetime", type=float, default=0.5, help="minutes; the operator trial waits it out"
    )
    parser.add_argument("--soak-messages", type=int, default=1_000_000)
    parser.add_argument("--soak-rate", type=float, default=1000.0, help="messages per second")
    parser.add_argument("--quick", action="store_true", help="the bounded version make test runs")
    args = parser.parse_args()
    if args.quick:
        args.only = args.only or "kill,operator,faults,locked"
        args.engines, args.workers, args.kills, args.seconds = "sqlite", [1], 2, 1.5
        args.lifetime = 0.25
    print(f"machine: {machine()}", flush=True)
    print(f"command: {' '.join(sys.argv)}", flush=True)
    sys.exit(asyncio.run(campaign(args)))


if __name__ == "__main__":
    main()
