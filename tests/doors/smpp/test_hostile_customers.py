"""Hostile SMPP customers against a real node process (`smsgate serve --demo`, uvloop as in
production), its RSS and descriptors watched from /proc. One binds, then streams enquire_link
and never reads an answer: with a short write stall timeout the node stops reading it, holds
its memory and descriptors bounded meanwhile, and drops the session once its answers waited
that long. Another loops over wrong passwords: refused, the loop costs the node nothing that
stays, and the right password still binds from another address. A flood of connections that
never bind is held to the node's cap ([smpp] max_connections), the rest closed at once."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from process_probe import Peaks, descriptors, held, wait_settled

from smsgate.smpp.connection import WRITE_HIGH_WATER
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.pdu import BindTransceiver, BindTransceiverResp, EnquireLink, decode, encode

SMSGATE = str(Path(sys.executable).parent / "smsgate")
STALL_TIMEOUT = 1.0
SMPP_CAP = 16
# Descriptors the node may open beside the customer's own connection while it works.
FD_SLACK = 6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


@dataclass
class Node:
    proc: subprocess.Popen[bytes]
    smpp_port: int
    login: str
    password: str
    log: Path

    def descriptors(self) -> list[str]:
        return descriptors(self.proc.pid)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    tmp = tmp_path_factory.mktemp("never-reading")
    http_port, smpp_port = free_port(), free_port()
    config = tmp / "smsgate.toml"
    config.write_text(
        f"""
[database]
url = "sqlite+aiosqlite:///{tmp}/never-reading.db"
[http]
port = {http_port}
[smpp]
port = {smpp_port}
write_stall_timeout = {STALL_TIMEOUT}
max_connections = {SMPP_CAP}
[simulator]
port = {free_port()}
"""
    )
    log = tmp / "node.log"
    proc = subprocess.Popen(
        [SMSGATE, "serve", "--demo", "--config", str(config)],
        cwd=tmp,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    creds = tmp / "demo-credentials.json"
    try:

        def ready() -> bool:
            assert proc.poll() is None, log.read_text()
            if not creds.exists():
                return False
            try:  # the HTTP door starts last: then every listener and pump is up
                with socket.create_connection(("127.0.0.1", http_port), timeout=1) as s:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    return s.recv(100).startswith(b"HTTP/1.1 200 ")
            except OSError:
                return False

        wait_until(ready, 40, "the node answers /health")
        wait_settled(proc.pid)
        saved = json.loads(creds.read_text())
        yield Node(proc, smpp_port, saved["login"], saved["smpp_password"], log)
    finally:
        proc.terminate()
        proc.wait(20)


def read_pdu(s: socket.socket) -> bytes:
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        assert chunk, "closed"
        head += chunk
    (length,) = struct.unpack("!I", head)
    frame = head
    while len(frame) < length:
        chunk = s.recv(length - len(frame))
        assert chunk, "closed"
        frame += chunk
    return frame


def test_a_bound_customer_that_never_reads_is_dropped_with_memory_and_descriptors_bounded(
    node: Node,
) -> None:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)  # the bind checks a scrypt hash: slow on a loaded machine, never the point
    s.connect(("127.0.0.1", node.smpp_port))
    s.sendall(
        encode(BindTransceiver(sequence_number=1, system_id=node.login, password=node.password))
    )
    answer = decode(read_pdu(s))
    assert isinstance(answer, BindTransceiverResp)
    assert answer.command_status == CommandStatus.ESME_ROK
    # Bound: now stream enquire_link and read nothing. Each makes a 16-byte answer.
    burst = b"".join(encode(EnquireLink(sequence_number=n)) for n in range(2, 4098))
    s.settimeout(0.2)
    sent = 0
    stalled_at = dropped_at = None
    started = time.monotonic()
    before = node.descriptors()
    with Peaks(node.proc.pid) as peaks:
        # The stall is timed from when the node stopped reading us (the first of the sends
        # that no longer go through): how soon its buffers fill depends on the CPU it gets.
        # The overall deadline only says "not held forever".
        while time.monotonic() < started + STALL_TIMEOUT + 30:
            attempt = time.monotonic()
            try:
                sent += s.send(burst)
                stalled_at = None  # the node still reads
            except TimeoutError:
                stalled_at = stalled_at or attempt  # nothing taken since then
                continue
            except OSError:
                dropped_at = time.monotonic()
                break
    s.close()
    assert stalled_at is not None and dropped_at is not None, f"{sent} bytes sent, not dropped"
    # It did stream past the node's high-water mark (answers are as large as the requests);
    # without the pause the node read on and buffered every answer (RSS 283 -> 536 MB in a
    # minute of this), and kept the session.
    assert sent > WRITE_HIGH_WATER, sent
    assert peaks.rss_growth < 30, f"{peaks} ({sent} bytes sent)"
    assert peaks.fd_growth <= 1 + FD_SLACK, peaks
    assert dropped_at - stalled_at < STALL_TIMEOUT + 3, (stalled_at - started, dropped_at - started)
    wait_until(
        lambda: held(node.proc.pid) <= peaks.fds_before - 1,
        5,
        f"the customer's descriptor closed ({peaks}): {before} -> {node.descriptors()}",
    )
    log = node.log.read_text(errors="replace")
    assert "read nothing" in log
    assert "Traceback" not in log


def bind_once(node: Node, password: str, source: str = "127.0.0.1") -> int:
    """One bind_transceiver on a new connection from `source`: its command_status."""
    with socket.create_connection(("127.0.0.1", node.smpp_port), 30, (source, 0)) as s:
        s.sendall(
            encode(BindTransceiver(sequence_number=1, system_id=node.login, password=password))
        )
        return int(decode(read_pdu(s)).command_status)


def test_a_password_guessing_loop_is_refused_unchecked_with_memory_and_descriptors_bounded(
    node: Node,
) -> None:
    with Peaks(node.proc.pid) as peaks:
        started = time.monotonic()
        statuses = {bind_once(node, f"g{n:06d}") for n in range(200)}
        took = time.monotonic() - started
    assert statuses == {CommandStatus.ESME_RINVPASWD}
    # All but the first few are refused without a scrypt check (test_password_guessing.py
    # counts them); here only that the loop ends and leaves nothing held.
    assert took < 60, took
    assert peaks.rss_growth < 20, peaks
    assert peaks.fd_growth <= 1 + FD_SLACK, peaks
    log = node.log.read_text(errors="replace")
    assert "password guessing" in log
    # The right password from the guessing address is refused while its lock runs; from
    # another address it binds.
    assert bind_once(node, node.password) == CommandStatus.ESME_RINVPASWD
    assert bind_once(node, node.password, source="127.0.0.2") == CommandStatus.ESME_ROK


def is_closed(s: socket.socket) -> bool:
    """Whether the node closed `s` (it answers nothing before a bind, so any byte is none)."""
    s.setblocking(False)  # a socket with a timeout would wait that long for the byte
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_a_flood_of_connections_is_held_to_the_cap_and_the_rest_closed_at_once(
    node: Node,
) -> None:
    wait_settled(node.proc.pid)
    before = held(node.proc.pid)
    flood = [
        socket.create_connection(("127.0.0.1", node.smpp_port), 10) for _ in range(SMPP_CAP * 6)
    ]
    try:
        # Never binding, each would be held for the session-init timeout (30 s): 20,000 of
        # them took every descriptor of the process. Past the cap they are closed at once.
        wait_until(
            lambda: sum(map(is_closed, flood)) >= len(flood) - SMPP_CAP,
            20,
            f"all but {SMPP_CAP} of {len(flood)} closed",
        )
        assert held(node.proc.pid) <= before + SMPP_CAP + FD_SLACK, node.descriptors()
        log = node.log.read_text(errors="replace")
        assert f"the cap of {SMPP_CAP} open connections is reached" in log
        # Full: a customer is refused too (closed, never answered) until places free up.
        with socket.create_connection(("127.0.0.1", node.smpp_port), 10) as late:
            wait_until(lambda: is_closed(late), 10, "the customer past the cap closed")
    finally:
        for s in flood:
            s.close()
    wait_until(lambda: held(node.proc.pid) <= before, 10, "the flood's descriptors closed")
    assert bind_once(node, node.password, source="127.0.0.3") == CommandStatus.ESME_ROK
