from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from smsgate.admin.connectors import NOT_REACHABLE, health_url
from smsgate.config import HttpSettings

from .admin_cli import Admin

HEALTH = {
    "ok": True,
    "connectors": {
        "kyivstar": {"bound": True, "host": "10.0.0.1", "port": 2775},
        "vodafone": {
            "bound": False,
            "host": "10.0.0.2",
            "port": 2775,
            "since": 1_780_000_000.0,  # 2026-05-28 20:26:40 UTC
            "last_error": "bind refused with command_status 0x0000000E (ESME_RINVPASWD)",
            "last_error_at": 1_780_000_060.0,
        },
        "simulator": {"bound": True, "host": "127.0.0.1", "port": 2776},
    },
}


class _Health(BaseHTTPRequestHandler):
    body: bytes = b""

    def do_GET(self) -> None:
        if self.path != "/health":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(body: bytes) -> Iterator[int]:
    handler = type("Health", (_Health,), {"body": body})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def node_port() -> Iterator[int]:
    yield from _serve(json.dumps(HEALTH).encode())


# The node asked is not the one binding kyivstar: another node holds its lease.
ELSEWHERE = {
    "ok": True,
    "connectors": {
        "kyivstar": {
            "bound": False,
            "host": "10.0.0.1",
            "port": 2775,
            "held_by": {"node_id": 2, "holder": "gw2:4242:ab12cd"},
        },
    },
}


@pytest.fixture
def elsewhere_port() -> Iterator[int]:
    yield from _serve(json.dumps(ELSEWHERE).encode())


@pytest.fixture
def garbage_port() -> Iterator[int]:
    yield from _serve(b"<html>not json</html>")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path, port: int) -> str:
    config = tmp_path / "smsgate.toml"
    config.write_text(
        f"""
[http]
host = "127.0.0.1"
port = {port}

[[connectors]]
name = "kyivstar"
host = "10.0.0.1"
port = 2775
system_id = "ks"
password = "secret"

[[connectors]]
name = "vodafone"
host = "10.0.0.2"
port = 2775
system_id = "vf"
password = "secret"
bind_type = "transmitter"

[[connectors]]
name = "lifecell"
host = "10.0.0.3"
port = 2775
system_id = "lc"
password = "secret"
""",
        encoding="utf-8",
    )
    return str(config)


def test_bind_states_come_from_the_running_nodes_health(
    admin: Admin, tmp_path: Path, node_port: int
) -> None:
    rows = json.loads(
        admin.ok("connectors", "list", "--json", "--config", _config(tmp_path, node_port)).stdout
    )
    states = {r["name"]: (r["state"], r["declared"]) for r in rows}
    assert states == {
        "kyivstar": ("bound", True),
        "vodafone": ("not bound", True),
        "lifecell": ("not running on the node", True),
        "simulator": ("bound", False),
    }
    assert rows[1]["bind_type"] == "transmitter"
    assert rows[0]["address"] == "10.0.0.1:2775"
    assert all("secret" not in json.dumps(r) for r in rows)


def test_the_table_names_each_connector_and_its_state(
    admin: Admin, tmp_path: Path, node_port: int
) -> None:
    table = admin.ok("connectors", "list", "--config", _config(tmp_path, node_port)).stdout
    for text in ("kyivstar", "vodafone", "lifecell", "not bound", "10.0.0.2:2775"):
        assert text in table


def test_a_node_that_is_not_running_is_a_state_not_an_error(admin: Admin, tmp_path: Path) -> None:
    result = admin.ok("connectors", "list", "--json", "--config", _config(tmp_path, _free_port()))
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == ["kyivstar", "vodafone", "lifecell"]
    assert {r["state"] for r in rows} == {NOT_REACHABLE}
    assert result.stderr == ""


def test_a_health_answer_that_is_not_json_counts_as_not_reachable(
    admin: Admin, tmp_path: Path, garbage_port: int
) -> None:
    rows = json.loads(
        admin.ok("connectors", "list", "--json", "--config", _config(tmp_path, garbage_port)).stdout
    )
    assert {r["state"] for r in rows} == {NOT_REACHABLE}


def test_no_declared_connectors_and_no_node_says_so(admin: Admin) -> None:
    env = {"SMSGATE_HTTP__PORT": str(_free_port())}
    assert "no connectors declared" in admin("connectors", "list", env=env).stdout
    assert json.loads(admin("connectors", "list", "--json", env=env).stdout) == []


def test_a_node_listening_on_every_address_is_asked_on_loopback() -> None:
    assert health_url(HttpSettings(host="0.0.0.0", port=8080)) == "http://127.0.0.1:8080/health"
    assert health_url(HttpSettings(host="::", port=8080)) == "http://[::1]:8080/health"
    assert health_url(HttpSettings(host="gw.local", port=81)) == "http://gw.local:81/health"
    over_tls = HttpSettings(host="0.0.0.0", port=8443, tls_cert="c.pem", tls_key="k.pem")
    assert health_url(over_tls) == "https://127.0.0.1:8443/health"


def test_a_connector_that_is_down_shows_why_and_since_when(
    admin: Admin, tmp_path: Path, node_port: int
) -> None:
    rows = json.loads(
        admin.ok("connectors", "list", "--json", "--config", _config(tmp_path, node_port)).stdout
    )
    vodafone = next(r for r in rows if r["name"] == "vodafone")
    assert vodafone["state"] == "not bound"
    assert vodafone["since"] == "2026-05-28 20:26:40Z"
    assert vodafone["last_error"] == (
        "bind refused with command_status 0x0000000E (ESME_RINVPASWD) (at 2026-05-28 20:27:40Z)"
    )
    table = admin.ok("connectors", "list", "--config", _config(tmp_path, node_port)).stdout
    assert "ESME_RINVPASWD" in table and "last error" in table


def test_a_connector_another_node_binds_is_shown_as_held_there_not_as_down(
    admin: Admin, tmp_path: Path, elsewhere_port: int
) -> None:
    config = _config(tmp_path, elsewhere_port)
    rows = json.loads(admin.ok("connectors", "list", "--json", "--config", config).stdout)
    kyivstar = next(r for r in rows if r["name"] == "kyivstar")
    assert kyivstar["state"] == "held by node 2 (gw2:4242:ab12cd)"
    assert kyivstar["last_error"] is None
    assert "held by node 2" in admin.ok("connectors", "list", "--config", config).stdout
