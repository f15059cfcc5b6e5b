"""smsgate and Kannel side by side in one run, against the same neutral SMSC (bench/peer_sink.py).

Each peer in turn takes single-recipient HTTP GET sends from wrk (50 keep-alive connections by
default) for a fixed time; every message goes to the sink over SMPP, whose receipt comes back a
fixed delay later and ends as a delivery report: Kannel's `dlr-url`, smsgate's per-message
callback (`dlr_url`), both counted by bench/callback_counter.py. With `--completion db`, smsgate's
end is read from its database instead (final statuses), for trees without callbacks.

The peers take turns, one run each a round, `--repeat` rounds. Printed per peer (medians over
its runs) and as JSON lines:
- accept msg/s: wrk's answered 2xx requests per second;
- to operator msg/s: submit_sm per second at the sink, first to last;
- end to end msg/s: accepted messages / (start of load → last delivery report);
- CPU ms per message of each of the peer's processes over the whole run, and their sum;
- accept latency p50/p99 (wrk).

    bench/peers.sh                 # installs kannel and wrk if needed, then runs this
    .venv/bin/python bench/peers.py --seconds 5 --repeat 3 --peers kannel,smsgate,smsgate-w2
    .venv/bin/python bench/peers.py --peers smsgate-w2-b2   # 2 workers, 2 binds to the sink
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e import message_statuses
from harness import GatewayProcess, cpu_seconds, free_port, machine

HERE = Path(__file__).resolve().parent
PY = sys.executable

LUA = r"""
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  thread_id = id
end
request = function()
  counter = counter + 1
  local n = (thread_id * 3000000 + counter + %(seed)d) %% 10000000
  return wrk.format("GET", string.format("%(template)s", n, thread_id, counter))
end
"""


@dataclass
class RunResult:
    peer: str
    accepted: int
    accept_per_s: float
    to_operator_per_s: float
    end_to_end_per_s: float
    cpu_ms_per_message: dict[str, float]
    p50_ms: float
    p99_ms: float
    non_2xx: int

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu_ms_per_message.values())


def read_json(path: Path) -> dict[str, object]:
    try:
        data: dict[str, object] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return {}


class Helpers:
    """The sink and the callback counter, each a process of its own (their CPU is not a
    peer's)."""

    def __init__(self, workdir: Path, receipt_delay: float) -> None:
        self.workdir = workdir
        self.sink_port = free_port()
        self.callback_port = free_port()
        self.sink_stats = workdir / "sink.json"
        self.callback_stats = workdir / "callbacks.json"
        self.procs = [
            subprocess.Popen(
                [
                    PY,
                    str(HERE / "peer_sink.py"),
                    "--port",
                    str(self.sink_port),
                    "--receipt-delay",
                    str(receipt_delay),
                    "--stats",
                    str(self.sink_stats),
                ]
            ),
            subprocess.Popen(
                [
                    PY,
                    str(HERE / "callback_counter.py"),
                    "--port",
                    str(self.callback_port),
                    "--stats",
                    str(self.callback_stats),
                ]
            ),
        ]
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.sink_stats.exists() and self.callback_stats.exists():
                return
            time.sleep(0.05)
        raise RuntimeError("sink or callback counter did not start")

    def sink(self) -> dict[str, object]:
        return read_json(self.sink_stats)

    def callbacks(self) -> dict[str, object]:
        return read_json(self.callback_stats)

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


class Kannel:
    """bearerbox + smsbox from Debian's package, messages in memory (no store file), the sink
    as its SMPP transceiver with a window of 64 (`max-pending-submits`)."""

    name = "kannel"

    def __init__(self, workdir: Path, helpers: Helpers) -> None:
        self.workdir = workdir
        self.helpers = helpers
        self.admin_port = free_port()
        self.box_port = free_port()
        self.http_port = free_port()
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        conf = self.workdir / "kannel.conf"
        conf.write_text(
            f"""group = core
admin-port = {self.admin_port}
admin-password = bench
smsbox-port = {self.box_port}
box-allow-ip = 127.0.0.1
log-level = 4
log-file = "{self.workdir}/bearerbox.log"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = sink
host = 127.0.0.1
port = {self.helpers.sink_port}
transceiver-mode = true
smsc-username = kannel
smsc-password = bench
system-type = "bench"
max-pending-submits = 64
msg-id-type = 0x00
log-level = 4

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.box_port}
sendsms-port = {self.http_port}
log-level = 4
log-file = "{self.workdir}/smsbox.log"

group = sendsms-user
username = bench
password = bench
max-messages = 1

group = sms-service
keyword = default
text = "no service"
"""
        )
        for binary in ("bearerbox", "smsbox"):
            log = open(self.workdir / f"{binary}.out", "wb")  # noqa: SIM115
            self.procs.append(
                # -v 4: console logging at panic level only; debug output would slow Kannel down.
                subprocess.Popen(
                    [f"/usr/sbin/{binary}", "-v", "4", str(conf)], stdout=log, stderr=log
                )
            )
            time.sleep(0.5)
        deadline = time.time() + 30
        status = f"http://127.0.0.1:{self.admin_port}/status.txt?password=bench"
        while time.time() < deadline:
            try:
                text = urllib.request.urlopen(status, timeout=1).read().decode()
                if "online" in text and "smsbox" in text.lower():
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/", timeout=1):
                        pass
                    return
            except OSError as exc:
                if getattr(exc, "code", None):  # smsbox answered (with an HTTP error): up
                    return
            time.sleep(0.2)
        raise RuntimeError(f"kannel did not come up; see {self.workdir}")

    def template(self) -> str:
        dlr = f"http://127.0.0.1:{self.helpers.callback_port}/kannel?p=%p&type=%d"
        return (
            "/cgi-bin/sendsms?username=bench&password=bench&from=smsgate&to=38050%07d"
            "&text=bench+%d+%d&dlr-mask=3&dlr-url=" + quote(dlr, safe="")
        )

    def pids(self) -> dict[str, int]:
        return {"bearerbox": self.procs[0].pid, "smsbox": self.procs[1].pid}

    def delivered(self) -> int:
        return int(self.helpers.callbacks().get("distinct", 0))  # type: ignore[call-overload]

    def last_delivery(self) -> float:
        return float(self.helpers.callbacks().get("last", 0.0))  # type: ignore[arg-type]

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


class Smsgate:
    """`smsgate serve` (or `--workers N`) on SQLite, the sink as its one connector, the HTTP
    gateway door with the demo account's token."""

    def __init__(
        self, workdir: Path, helpers: Helpers, workers: int, completion: str, binds: int = 1
    ) -> None:
        self.name = "smsgate" + (f"-w{workers}" if workers > 1 else "")
        self.name += f"-b{binds}" if binds > 1 else ""
        self.helpers = helpers
        self.completion = completion
        # More binds are more connectors to the one sink: `serve --workers N` spreads
        # connectors over its workers, so each worker dispatches on a bind of its own.
        more = "".join(
            f'\n[[connectors]]\nname = "sink{n}"\nhost = "127.0.0.1"\n'
            f'port = {helpers.sink_port}\nsystem_id = "smsgate"\npassword = "sim"\nwindow = 64\n'
            for n in range(2, binds + 1)
        )
        self.gw = GatewayProcess(workers=workers, workdir=workdir, connector_extra=more)
        self.gw.sim_port = helpers.sink_port
        self.http_port = self.gw.http_port
        self._done_at = 0.0

    def start(self) -> None:
        self.gw.start_gateway(wait_bound=True)
        self.gw.top_up("100000000")

    def template(self) -> str:
        token = self.gw.credentials["token"]
        path = f"/token/?username=demo&token={token}&from=smsgate&to=38050%07d&text=bench+%d+%d"
        if self.completion == "callbacks":
            url = f"http://127.0.0.1:{self.helpers.callback_port}/smsgate"
            path += "&dlr_url=" + quote(url, safe="")
        return path

    def pids(self) -> dict[str, int]:
        return {f"node{i}": pid for i, pid in enumerate(self.gw.node_pids())}

    def delivered(self) -> int:
        if self.completion == "callbacks":
            return int(self.helpers.callbacks().get("distinct", 0))  # type: ignore[call-overload]
        done = message_statuses(self.gw.workdir / "smsgate.db").get("DELIVRD", 0)
        if done and not self._done_at:
            self._done_at = time.time()
        return done

    def last_delivery(self) -> float:
        if self.completion == "callbacks":
            return float(self.helpers.callbacks().get("last", 0.0))  # type: ignore[arg-type]
        return time.time()  # polled: the moment the count was seen complete

    def stop(self) -> None:
        self.gw.stop()


def run_wrk(port: int, template: str, seconds: int, connections: int, workdir: Path) -> dict:
    script = workdir / "send.lua"
    lua_template = template.replace("%07d", "\x00").replace("%d", "\x01").replace("%", "%%")
    lua_template = lua_template.replace("\x00", "%07d").replace("\x01", "%d")
    script.write_text(LUA % {"seed": int(time.time()) % 1000003, "template": lua_template})
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(q: str) -> float:
        found = re.search(q + r"%\s+([\d.]+)(us|ms|s)", out)
        return float(found.group(1)) * scale[found.group(2)] if found else float("nan")

    return {
        "requests": total,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
    }


def run_one(
    peer: Kannel | Smsgate,
    helpers: Helpers,
    seconds: int,
    connections: int,
    workdir: Path,
    timeout: float,
) -> RunResult:
    pids = peer.pids()
    cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
    sink0 = helpers.sink()
    submits0 = int(sink0.get("submits", 0))  # type: ignore[call-overload]
    delivered0 = peer.delivered()
    started = time.time()
    load = run_wrk(peer.http_port, peer.template(), seconds, connections, workdir)
    load_seconds = time.time() - started
    accepted = load["requests"] - load["non_2xx"]
    deadline = time.time() + timeout
    while time.time() < deadline and peer.delivered() - delivered0 < accepted:
        time.sleep(0.1)
    delivered = peer.delivered() - delivered0
    if delivered < accepted:
        print(f"  {peer.name}: only {delivered} of {accepted} delivery reports in {timeout:.0f} s")
    ended = peer.last_delivery()
    cpu = {name: cpu_seconds(pid) - cpu0[name] for name, pid in pids.items()}
    sink = helpers.sink()
    submits = int(sink.get("submits", 0)) - submits0  # type: ignore[call-overload]
    # The sink's first/last stamps are for its whole life: take this run's span from the load's
    # start to its last submit.
    to_operator = submits / max(1e-9, float(sink.get("last_submit", 0.0)) - started)  # type: ignore[arg-type]
    return RunResult(
        peer=peer.name,
        accepted=accepted,
        accept_per_s=accepted / load_seconds,
        to_operator_per_s=to_operator,
        end_to_end_per_s=delivered / max(1e-9, ended - started),
        cpu_ms_per_message={k: v * 1000 / max(1, delivered) for k, v in cpu.items()},
        p50_ms=load["p50_ms"],
        p99_ms=load["p99_ms"],
        non_2xx=load["non_2xx"],
    )


def median_row(results: list[RunResult]) -> str:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    first = results[0]
    cpu = {k: med([r.cpu_ms_per_message[k] for r in results]) for k in first.cpu_ms_per_message}
    cpu_text = " + ".join(f"{k} {v:.3f}" for k, v in cpu.items())
    return (
        f"| {first.peer} | {med([r.accept_per_s for r in results]):,.0f} "
        f"| {med([r.to_operator_per_s for r in results]):,.0f} "
        f"| {med([r.end_to_end_per_s for r in results]):,.0f} "
        f"| {med([r.cpu_total for r in results]):.3f} ({cpu_text}) "
        f"| {med([r.p50_ms for r in results]):.1f} / {med([r.p99_ms for r in results]):.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", default="kannel,smsgate,smsgate-w2")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--receipt-delay", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument(
        "--completion",
        choices=["callbacks", "db"],
        default="callbacks",
        help="how smsgate's end to end is read (db: final statuses)",
    )
    args = parser.parse_args()
    for tool in ("wrk", "/usr/sbin/bearerbox"):
        if shutil.which(tool) is None and not os.path.exists(tool):
            raise SystemExit(f"{tool} is required: run bench/peers.sh")
    print(
        f"# {machine()}; {args.seconds} s of load x {args.repeat}, {args.connections} "
        f"connections, receipts after {args.receipt_delay} s"
    )
    # Round by round, every peer once a round: the machine's speed drifts over minutes, and a
    # peer measured only at the start or only at the end of a run would carry that drift.
    names = args.peers.split(",")
    results: dict[str, list[RunResult]] = {name: [] for name in names}
    for _ in range(args.repeat):
        for name in names:
            workdir = Path(tempfile.mkdtemp(prefix=f"peers-{name}-"))
            helpers = Helpers(workdir, args.receipt_delay)
            peer: Kannel | Smsgate
            if name == "kannel":
                peer = Kannel(workdir, helpers)
            else:
                found = re.fullmatch(r"smsgate(?:-w(\d+))?(?:-b(\d+))?", name)
                if found is None:
                    raise SystemExit(f"unknown peer {name}: kannel or smsgate[-wN][-bM]")
                workers, binds = (int(g) if g else 1 for g in found.groups())
                peer = Smsgate(workdir, helpers, workers, args.completion, binds)
            try:
                peer.start()
                result = run_one(
                    peer, helpers, args.seconds, args.connections, workdir, args.timeout
                )
            finally:
                peer.stop()
                helpers.stop()
            print(json.dumps(vars(result)), flush=True)
            results[name].append(result)
    rows = [median_row(results[name]) for name in names]
    print()
    print(
        "| peer | accept msg/s | to operator msg/s | end to end msg/s "
        "| CPU ms per message (e2e) | accept p50 / p99 ms |"
    )
    print("|---|---:|---:|---:|---|---|")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
