"""A node at rest: `smsgate serve --demo` (the in-process simulator as its operator, as
`make run` starts it), left idle, and the CPU seconds it used; then what rest costs the first
message after it: accept to submitted (ENROUTE) and to its DELIVRD callback, a few times.

It changes nothing in src/. CPU is user+sys of the node's process (all its threads) from
/proc, so other load on the machine barely moves it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import SMSGATE, GatewayProcess, cpu_seconds, free_port, machine


class _Arrivals:
    """When each awaited message's DELIVRD callback arrived (perf_counter), by message id."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.expected: set[str] = set()
        self.seen = threading.Condition()

    def posted(self, body: str) -> None:
        if "DELIVRD" not in body:
            return
        with self.seen:
            for key in self.expected:
                if key in body:
                    self.arrived[key] = time.perf_counter()
            self.seen.notify_all()


ARRIVALS = _Arrivals()


class _Callbacks(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        ARRIVALS.posted(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet


def _post(port: int, path: str, token: str, body: dict[str, object]) -> dict[str, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST",
            path,
            json.dumps(body),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        answer: dict[str, object] = json.loads(conn.getresponse().read())
        return answer
    finally:
        conn.close()


def _status(port: int, token: str, message_id: str) -> str:
    answer = _post(port, "/sms/status", token, {"id_sms": [message_id]})
    info = answer["success_request"]
    assert isinstance(info, dict)
    return str(info["info"][message_id])


def first_message(port: int, token: str, callback_port: int) -> tuple[float, float]:
    """One message after rest: seconds from the accept's answer to ENROUTE (polled every
    2 ms) and to its DELIVRD callback."""
    url = f"http://127.0.0.1:{callback_port}/cb"
    body: dict[str, object] = {
        "phone": ["380501234568"],
        "message": f"idle {time.time()}",  # a new text each time: no duplicate
        "src_addr": "smsgate",
        "callback_url": url,
    }
    answer = _post(port, "/sms/send", token, body)
    accepted = time.perf_counter()
    info = answer.get("success_request")
    assert isinstance(info, dict), answer
    message_id = next(iter(info["info"]))
    with ARRIVALS.seen:
        ARRIVALS.expected.add(message_id)
    enroute = float("nan")
    deadline = accepted + 10
    while time.perf_counter() < deadline:
        if _status(port, token, message_id) in {"ENROUTE", "DELIVRD"}:
            enroute = time.perf_counter() - accepted
            break
        time.sleep(0.002)
    with ARRIVALS.seen:
        ARRIVALS.seen.wait_for(lambda: message_id in ARRIVALS.arrived, 10)
        delivered = ARRIVALS.arrived.get(message_id, float("nan")) - accepted
    return enroute, delivered


def demo_node() -> GatewayProcess:
    """`serve --demo` as `make run` starts it: the simulator in-process as the only operator
    (no [[connectors]]), on free ports and a temp database."""
    node = GatewayProcess()
    sim = free_port()
    control = free_port()
    node.sim_port = sim
    node.extra_config = f"[simulator]\nport = {sim}\ncontrol_port = {control}\n"
    config = node.workdir / "smsgate.toml"
    config.write_text(
        f"""
[database]
url = "sqlite+aiosqlite:///{node.workdir}/smsgate.db"
[http]
port = {node.http_port}
[smpp]
port = {node.smpp_port}
{node.extra_config}"""
    )
    log = open(node.workdir / "gateway.log", "wb")  # noqa: SIM115
    node.proc = subprocess.Popen(
        [SMSGATE, "serve", "--demo", "--config", str(config)],
        cwd=node.workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        if (node.workdir / "demo-credentials.json").exists() and node._health_ok(True):
            return node
        if node.proc.poll() is not None:
            break
        time.sleep(0.1)
    node.stop()
    raise RuntimeError(f"gateway did not start; see {node.workdir / 'gateway.log'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="idle time measured")
    parser.add_argument("--settle", type=float, default=10.0, help="rest before measuring")
    parser.add_argument("--messages", type=int, default=5, help="first messages after rest")
    parser.add_argument("--rest", type=float, default=3.0, help="rest before each message")
    args = parser.parse_args()

    callback_port = free_port()
    receiver = ThreadingHTTPServer(("127.0.0.1", callback_port), _Callbacks)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    node = demo_node()
    try:
        token = node.credentials["token"]
        time.sleep(args.settle)
        before = cpu_seconds(node.pid)
        time.sleep(args.seconds)
        used = cpu_seconds(node.pid) - before
        enroutes: list[float] = []
        callbacks: list[float] = []
        for _ in range(args.messages):
            time.sleep(args.rest)
            enroute, delivered = first_message(node.http_port, token, callback_port)
            enroutes.append(enroute)
            callbacks.append(delivered)
    finally:
        node.stop()
        receiver.shutdown()
    print(machine())
    print(
        f"idle {args.seconds:.0f} s: {used:.2f} CPU s, {100 * used / args.seconds:.2f} % of a core"
    )
    print(
        f"first message after {args.rest:.0f} s at rest (median of {args.messages}): "
        f"accept to ENROUTE {1000 * statistics.median(enroutes):.0f} ms "
        f"(max {1000 * max(enroutes):.0f}), "
        f"to its DELIVRD callback {1000 * statistics.median(callbacks):.0f} ms "
        f"(max {1000 * max(callbacks):.0f})"
    )


if __name__ == "__main__":
    main()
