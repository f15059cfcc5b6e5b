"""Shared pieces of the benchmarks: the machine they ran on, a gateway node in a subprocess with
the simulator as its operator, and CPU time read from /proc.

Benchmarks print their figures; bench/RESULTS.md records them with the command that made them.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMSGATE = str(Path(sys.executable).parent / "smsgate")


def use_uvloop() -> str:
    """Install uvloop as the node does; the name of the loop a benchmark runs on."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    uvloop.install()
    return "uvloop"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in Path(task).read_text().split()]
    return found


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class GatewayProcess:
    """`smsgate serve --demo` in a subprocess on a temp SQLite database."""

    receipt_delay: float = 0.0
    extra_config: str = ""
    workers: int = 1  # `serve --workers N` when above 1
    connector_extra: str = ""  # more lines of the [[connectors]] table
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="smsgate-bench-")))
    http_port: int = field(default_factory=free_port)
    sim_port: int = field(default_factory=free_port)
    smpp_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)  # /metrics is not on the public port
    proc: subprocess.Popen[bytes] | None = None
    simulator: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """The operator first, then the gateway, waiting until its connector is bound."""
        self.start_operator()
        self.start_gateway(wait_bound=True)

    def start_operator(self) -> None:
        """The simulator runs in a process of its own: it is the operator, not the gateway,
        and its CPU must not be counted as the gateway's."""
        sim_log = open(self.workdir / "simulator.log", "wb")  # noqa: SIM115
        self.simulator = subprocess.Popen(
            [
                SMSGATE,
                "simulator",
                "--port",
                str(self.sim_port),
                "--credential",
                "smsgate:sim",
                "--receipt-delay",
                str(self.receipt_delay),
            ],
            stdout=sim_log,
            stderr=subprocess.STDOUT,
        )

    def start_gateway(self, *, wait_bound: bool) -> None:
        config = self.workdir / "smsgate.toml"
        config.write_text(
            f"""
[database]
url = "sqlite+aiosqlite:///{self.workdir}/smsgate.db"
[http]
port = {self.http_port}
[smpp]
port = {self.smpp_port}
[metrics]
port = {self.metrics_port}
{self.extra_config}
[[connectors]]
name = "simulator"
host = "127.0.0.1"
port = {self.sim_port}
system_id = "smsgate"
password = "sim"
window = 64
{self.connector_extra}
"""
        )
        log = open(self.workdir / "gateway.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [SMSGATE, "serve", "--demo", "--config", str(config)]
            + (["--workers", str(self.workers)] if self.workers > 1 else []),
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if (self.workdir / "demo-credentials.json").exists() and self._health_ok(wait_bound):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"gateway did not start; see {self.workdir / 'gateway.log'}")

    def _health_ok(self, wait_bound: bool) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.http_port), timeout=0.5) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = s.recv(4096)
            if not data.startswith(b"HTTP/1.1 200"):
                return False
            return b'"bound":true' in data or not wait_bound
        except OSError:
            return False

    def top_up(self, amount: str) -> None:
        """The demo account holds 1000.0000 (2,000 parts at 0.5): too little for a bulk run,
        and a recipient refused for money still answers 200, so a benchmark would count it."""
        subprocess.run(
            [
                SMSGATE,
                "admin",
                "balance",
                "top-up",
                "demo",
                amount,
                "--config",
                str(self.workdir / "smsgate.toml"),
            ],
            check=True,
            capture_output=True,
        )

    @property
    def credentials(self) -> dict[str, str]:
        data: dict[str, str] = json.loads((self.workdir / "demo-credentials.json").read_text())
        return data

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def node_pids(self) -> list[int]:
        """The processes that do the gateway's work: the node, or the workers under the
        supervisor (multiprocessing's resource tracker, if any, left out)."""
        if self.workers == 1:
            return [self.pid]
        found = []
        for pid in sorted(children(self.pid)):
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
        return found

    def stop(self) -> None:
        if self.simulator is not None and self.simulator.poll() is None:
            self.simulator.terminate()
            self.simulator.wait(10)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
