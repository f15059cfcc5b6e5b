"""Hostile and slow HTTP clients against a real node process (`smsgate serve --demo`, on uvloop
as in production) over loopback sockets, with small limits so each case takes a second or two:
connections that never finish their headers are closed, one past the cap gets a 503, a client
that pipelines without reading does not grow the node's memory, a lying Content-Length is
answered at once, and the node's descriptors come back to where they were."""

from __future__ import annotations

import contextlib
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
from process_probe import Peaks, held, sockets, wait_settled

SMSGATE = str(Path(sys.executable).parent / "smsgate")
MAX_CONNECTIONS = 24
HEADER_TIMEOUT = 0.5
BODY_TIMEOUT = 1.0
STALL_TIMEOUT = 1.5
KEEP_ALIVE = 5.0  # uvicorn's idle keep-alive timeout: idle connections outlive these tests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Gateway:
    proc: subprocess.Popen[bytes]
    port: int
    token: str
    log: Path

    def sockets(self) -> int:
        """The node's open sockets: its listeners, its SMPP binds, and the HTTP connections."""
        return sockets(self.proc.pid)

    def descriptors(self) -> int:
        """Open descriptors, files on disk aside (process_probe.held)."""
        return held(self.proc.pid)

    def peaks(self) -> Peaks:
        return Peaks(self.proc.pid)

    def connect(self, rcvbuf: int | None = None) -> socket.socket:
        s = socket.socket()
        if rcvbuf is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(5)
        s.connect(("127.0.0.1", self.port))
        return s

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def request(gw: Gateway, raw: bytes, timeout: float = 5.0) -> bytes:
    """Send one raw request on a new connection; everything the node answers until it closes."""
    with gw.connect() as s:
        s.sendall(raw)
        s.settimeout(timeout)
        return read_until_closed(s)


def read_until_closed(s: socket.socket) -> bytes:
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def get_health(s: socket.socket) -> bytes:
    s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
        chunk = s.recv(65536)
        assert chunk, f"closed after {answer!r}"
        answer += chunk
    return answer


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("hostile")
    port = free_port()
    config = tmp / "smsgate.toml"
    config.write_text(
        f"""
[database]
url = "sqlite+aiosqlite:///{tmp}/hostile.db"
[http]
port = {port}
max_connections = {MAX_CONNECTIONS}
header_timeout = {HEADER_TIMEOUT}
body_timeout = {BODY_TIMEOUT}
stall_timeout = {STALL_TIMEOUT}
max_body_bytes = 100000
[smpp]
enabled = false
[simulator]
port = {free_port()}
"""
    )
    log = tmp / "gateway.log"
    proc = subprocess.Popen(
        [SMSGATE, "serve", "--demo", "--config", str(config)],
        cwd=tmp,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    creds = tmp / "demo-credentials.json"
    try:
        gw = Gateway(proc, port, "", log)

        def ready() -> bool:
            assert proc.poll() is None, log.read_text()
            try:
                with gw.connect() as s:
                    return b" 200 " in get_health(s) and creds.exists()
            except OSError:
                return False

        wait_until(ready, 40, "the gateway answers /health")
        wait_settled(proc.pid)
        gw.token = json.loads(creds.read_text())["token"]
        yield gw
    finally:
        proc.terminate()
        proc.wait(20)


def no_stray_connections(gw: Gateway, baseline: int) -> None:
    wait_until(
        lambda: gw.sockets() <= baseline,
        HEADER_TIMEOUT + KEEP_ALIVE + 3,
        f"the node's sockets back to {baseline}",
    )


def descriptors_back(gw: Gateway, peaks: Peaks) -> None:
    """Every descriptor the node opened for the test's clients is closed again (sockets or
    not: a leaked pipe or event descriptor counts too)."""
    wait_until(
        lambda: gw.descriptors() <= peaks.fds_before,
        HEADER_TIMEOUT + KEEP_ALIVE + 3,
        f"the node's descriptors back to {peaks.fds_before} ({peaks})",
    )


# Descriptors the node may open beside the test's own connections while it works (a log
# rotation, the store's files): the bounds below are the connections plus this.
FD_SLACK = 6


def test_connections_that_never_finish_their_headers_are_closed(gateway: Gateway) -> None:
    baseline = gateway.sockets()
    started = time.monotonic()
    with gateway.peaks() as peaks:
        silent = [gateway.connect() for _ in range(8)]
        partial = [gateway.connect() for _ in range(8)]
        for s in partial:
            s.sendall(b"POST /sms/send HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        for s in silent + partial:
            s.settimeout(HEADER_TIMEOUT + 3)
            answer = read_until_closed(s)  # returns when the node closes the connection
            assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
            s.close()
        assert time.monotonic() - started < HEADER_TIMEOUT + 2.5
        no_stray_connections(gateway, baseline)
    assert "headers too slow" in gateway.log_text()
    # One descriptor per half-open connection while it waits, and a few kilobytes of state:
    # the node holds nothing more for a client that never finishes its headers.
    assert peaks.fd_growth <= 16 + FD_SLACK, peaks
    assert peaks.rss_growth < 15, peaks
    descriptors_back(gateway, peaks)


def test_dripping_header_bytes_does_not_extend_the_deadline(gateway: Gateway) -> None:
    with gateway.connect() as s:
        started = time.monotonic()
        s.sendall(b"GET /health HTTP/1.1\r\n")
        with pytest.raises(OSError):
            for i in range(100):
                s.sendall(b"X-%d: y\r\n" % i)
                time.sleep(HEADER_TIMEOUT / 5)
        assert time.monotonic() - started < HEADER_TIMEOUT + 2.5


def test_a_connection_past_the_cap_gets_a_503_and_the_cap_frees_up(gateway: Gateway) -> None:
    with gateway.peaks() as peaks:
        held = [gateway.connect() for _ in range(MAX_CONNECTIONS)]
        try:
            for s in held:  # kept open by keep-alive, not by the header deadline
                assert b" 200 " in get_health(s)
            for _ in range(3):
                with gateway.connect() as extra:
                    answer = read_until_closed(extra)
                head, _, body = answer.partition(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
                assert b"retry-after: 1" in head.lower()
                assert json.loads(body)["status"] == 503
            # Those already in are served on.
            assert b" 200 " in get_health(held[0])
        finally:
            for s in held:
                s.close()
    # Past the cap a connection holds its descriptor only while its 503 is read.
    assert peaks.fd_growth <= MAX_CONNECTIONS + 1 + FD_SLACK, peaks
    assert peaks.rss_growth < 15, peaks
    wait_until(lambda: "refused with 503" in gateway.log_text(), 2, "the refusal is logged")

    def served() -> bool:
        with gateway.connect() as s:
            try:
                return b" 200 " in get_health(s)
            except (AssertionError, OSError):
                return False

    wait_until(served, 3, "a new connection is served once the others closed")


def test_a_pipelining_client_that_never_reads_does_not_grow_memory(gateway: Gateway) -> None:
    baseline = gateway.sockets()
    one = b"POST /sms/balance HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"
    burst = one * 2000
    sent = 0
    stalled_at = dropped_at = None
    s = gateway.connect(rcvbuf=4096)
    s.settimeout(0.2)
    started = time.monotonic()
    with gateway.peaks() as peaks:
        # How soon the node fills its buffers with answers depends on the CPU it gets (a loaded
        # machine parses slower), so the stall is timed from when the node stopped reading us
        # (the first of the sends that no longer go through), and the overall deadline only
        # says "not held forever".
        while time.monotonic() < started + STALL_TIMEOUT + 30:
            attempt = time.monotonic()
            try:
                sent += s.send(burst)
                stalled_at = None  # the node still reads
            except TimeoutError:
                stalled_at = stalled_at or attempt  # nothing taken since then
                continue
            except OSError:
                dropped_at = time.monotonic()  # the node dropped us
                break
    # Unbounded, the node parsed all it was sent and queued a request cycle for each (~3 KB):
    # tens of MB a second, never given back. Bounded, it stops reading once answers pile up,
    # and drops the client once they have waited STALL_TIMEOUT.
    assert peaks.rss_growth < 40, f"{peaks} ({sent} bytes sent)"
    assert peaks.fd_growth <= 1 + FD_SLACK, peaks
    assert stalled_at is not None and dropped_at is not None, f"{sent} bytes sent, not dropped"
    # The node's sweep runs every STALL_TIMEOUT / 4; the rest is a loaded machine's slack.
    assert dropped_at - stalled_at < STALL_TIMEOUT + 3, (stalled_at - started, dropped_at - started)
    s.settimeout(3)
    read_until_closed(s)
    s.close()
    no_stray_connections(gateway, baseline)
    descriptors_back(gateway, peaks)
    log = gateway.log_text()
    assert "answers not taken" in log
    assert "handler is closed" not in log and "Traceback" not in log


def test_a_pipelining_client_that_goes_away_unread_leaves_no_error(gateway: Gateway) -> None:
    baseline = gateway.sockets()
    # Authenticated: each request waits on the store, so one is in flight at the close.
    auth = f"Authorization: Bearer {gateway.token}\r\n".encode()
    one = b"POST /sms/balance HTTP/1.1\r\nHost: t\r\n" + auth + b"Content-Length: 2\r\n\r\n{}"
    for _ in range(5):
        s = gateway.connect(rcvbuf=4096)
        s.settimeout(0.1)
        started = time.monotonic()
        while time.monotonic() < started + 0.3:  # until the node's answers back up
            with contextlib.suppress(TimeoutError):
                s.send(one * 1000)
        # Closed with answers unread: the request running must not write to the dead transport.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    no_stray_connections(gateway, baseline)
    log = gateway.log_text()
    assert "handler is closed" not in log and "Traceback" not in log


def test_a_well_behaved_pipelining_client_gets_every_answer_in_order(gateway: Gateway) -> None:
    # 600 requests in one write: more than one read of the node's, parsed a slice at a time.
    one = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
    with gateway.connect() as s:
        s.sendall(one * 600 + b"GET /nowhere HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        answers = read_until_closed(s)
    assert answers.count(b"HTTP/1.1 200 OK") == 600
    assert answers.count(b'"ok":true') == 600
    assert answers.rindex(b"HTTP/1.1 200 OK") < answers.index(b"HTTP/1.1 404 Not Found")
    assert b"\r\nserver:" not in answers.lower()  # the node does not name its server


def test_a_body_in_many_reads_up_to_the_limit_is_read_whole(gateway: Gateway) -> None:
    # An XML document of 99,000 bytes (the limit is 100,000): read whole, then refused for
    # its credentials, which proves the door saw the document's end.
    filler = b"<x>" + b"a" * 98_900 + b"</x>"
    body = b"<request_sendsms><username>nobody</username>" + filler + b"</request_sendsms>"
    head = b"POST /xml/ HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
    answer = request(gateway, head % len(body) + body)
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert b"<status>ERROR</status><text>Invalid username or password</text>" in answer


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/sms/send", b'"name":"Payload Too Large","message":"Request body is too large."'),
        ("/xml/", b"<status>ERROR</status><text>Request is too large</text>"),
        ("/token/", b"Request is too large"),
    ],
)
def test_a_lying_content_length_is_answered_at_once(
    gateway: Gateway, path: str, expected: bytes
) -> None:
    auth = f"Authorization: Bearer {gateway.token}\r\n".encode()
    head = f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {10 * 2**30}\r\n".encode()
    # An answer at all shows the declared length was refused without waiting for the body:
    # these 9 bytes never complete it, and a body that stops coming is closed unanswered
    # (the next test). No wall-clock bound: the body timeout here is 1 s, as near as a loaded
    # machine's scheduling.
    answer = request(gateway, head + auth + b"\r\n123456789", timeout=BODY_TIMEOUT + 10)
    status = b"413 " if path == "/sms/send" else b"200 OK"
    assert answer.startswith(b"HTTP/1.1 " + status), answer
    assert b"connection: close" in answer.lower()
    assert expected in answer


def test_a_body_that_stops_coming_is_given_up(gateway: Gateway) -> None:
    head = b"POST /xml/ HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n<request"
    started = time.monotonic()
    with gateway.connect() as s:
        s.sendall(head)
        s.settimeout(BODY_TIMEOUT + 3)
        assert read_until_closed(s) == b""
    assert BODY_TIMEOUT - 0.1 < time.monotonic() - started < BODY_TIMEOUT + 2.5


def test_headers_larger_than_the_limit_are_refused(gateway: Gateway) -> None:
    with gateway.connect() as s:
        s.sendall(b"GET /health HTTP/1.1\r\nX-Big: " + b"a" * 66_000)
        answer = read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")


def test_expect_100_continue_is_answered_before_the_body_is_sent(gateway: Gateway) -> None:
    body = b"<request_sendsms><username>nobody</username></request_sendsms>"
    with gateway.connect() as s:
        s.sendall(
            b"POST /xml/ HTTP/1.1\r\nHost: t\r\nConnection: close\r\nExpect: 100-continue\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            chunk = s.recv(100)
            assert chunk, f"closed after {interim!r}"
            interim += chunk
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        answer = read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert b"<status>ERROR</status><text>Invalid username or password</text>" in answer


class _Writes:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True


def test_an_answers_head_goes_out_in_one_write_with_its_body() -> None:
    from smsgate.doors.http_protocol import _HeadWithBody

    seen = _Writes()
    transport = _HeadWithBody(seen)  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # interim: at once
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
    assert seen.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    transport.write(b"body")
    transport.write(b"more")
    assert seen.writes[1:] == [b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody", b"more"]

    cut = _Writes()  # a head whose body never comes goes out before the close
    transport = _HeadWithBody(cut)  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
    transport.close()
    assert cut.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n"] and cut.closed
