"""The connection pool against real sockets: keep-alive reuse, the one resend when a server
closes a kept-alive connection before answering, the connection bound, origins sharing it, a
connection closed while idle, bodies in pieces, and TLS with host-name verification."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from smsgate.webhooks.http11 import encode_request
from smsgate.webhooks.http11_client import (
    ConnectionPool,
    ConnectTimedOut,
    ExchangeFailed,
    Origin,
    Response,
)
from smsgate.webhooks.safe_transport import ConnectFailed

OK = b"HTTP/1.1 204 No Content\r\n\r\n"
POST = encode_request("POST", "/hook", "hooks.test", [], b"id=1")

# What the scripted server does with request number `n` (from 1) on connection number `c`
# (from 1): bytes to write back, or None to close the connection without a word.
Script = Callable[[int, int], Awaitable[bytes | None]]


@dataclass
class Scripted:
    port: int = 0
    requests: list[tuple[int, int]] = field(default_factory=list)  # (connection, n) seen
    connections: int = 0
    open_now: int = 0
    most_open: int = 0


@contextlib.asynccontextmanager
async def scripted_server(script: Script, close_after: int = 0) -> AsyncIterator[Scripted]:
    """Runs a server that answers by `script` and, with `close_after`, closes each connection
    after that many answers without saying so (no Connection: close)."""
    state = Scripted()
    tasks: set[asyncio.Task[None] | None] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        state.connections += 1
        state.open_now += 1
        state.most_open = max(state.most_open, state.open_now)
        number = state.connections
        try:
            for n in range(1, 1_000):
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length = 0
                for line in head.decode().lower().split("\r\n"):
                    if line.startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                await reader.readexactly(length)
                state.requests.append((number, n))
                answer = await script(number, n)
                if answer is None:
                    return
                writer.write(answer)
                await writer.drain()
                if n == close_after:
                    return
        finally:
            state.open_now -= 1
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        for task in tasks:
            if task is not None:
                task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1)


def pool(**overrides: object) -> ConnectionPool:
    settings: dict[str, object] = {
        "max_connections": 4,
        "keepalive_expiry": 30.0,
        "connect_timeout": 2.0,
        "allow_private": True,
    }
    settings.update(overrides)
    return ConnectionPool(**settings)  # type: ignore[arg-type]


async def post(p: ConnectionPool, origin: Origin, cap: int = 1024, within: float = 5.0) -> Response:
    lease = await p.checkout(origin)
    deadline = asyncio.get_running_loop().time() + within
    try:
        return await p.exchange(lease, POST, "POST", cap, deadline)
    finally:
        p.checkin(lease)


def local(port: int) -> Origin:
    return ("http", "127.0.0.1", port)


async def answer_ok(connection: int, n: int) -> bytes | None:
    return OK


async def test_sends_reuse_one_kept_alive_connection() -> None:
    async with scripted_server(answer_ok) as server:
        p = pool()
        for _ in range(5):
            assert (await post(p, local(server.port))).head.status == 204
        await p.aclose()
    assert server.requests == [(1, 1), (1, 2), (1, 3), (1, 4), (1, 5)]


async def test_a_kept_alive_connection_closed_before_an_answer_is_resent_on_a_fresh_one() -> None:
    async def first_only(connection: int, n: int) -> bytes | None:
        return OK if n == 1 else None  # the server's idle timeout racing our next request

    async with scripted_server(first_only) as server:
        p = pool()
        assert (await post(p, local(server.port))).head.status == 204
        assert (await post(p, local(server.port))).head.status == 204
        await p.aclose()
    assert server.requests == [(1, 1), (1, 2), (2, 1)]


async def test_the_resend_happens_once_only() -> None:
    async def only_the_very_first(connection: int, n: int) -> bytes | None:
        return OK if connection == 1 and n == 1 else None

    async with scripted_server(only_the_very_first) as server:
        p = pool()
        await post(p, local(server.port))
        with pytest.raises(ExchangeFailed, match="closed before a response"):
            await post(p, local(server.port))
        await p.aclose()
    assert server.requests == [(1, 1), (1, 2), (2, 1)]


async def test_a_fresh_connection_closed_before_an_answer_is_not_resent() -> None:
    async def never(connection: int, n: int) -> bytes | None:
        return None

    async with scripted_server(never) as server:
        p = pool()
        with pytest.raises(ExchangeFailed, match="closed before a response"):
            await post(p, local(server.port))
        await p.aclose()
    assert server.requests == [(1, 1)]
    assert p.open_connections == 0


async def test_a_connection_closed_in_the_middle_of_an_answer_is_not_resent() -> None:
    async def half(connection: int, n: int) -> bytes | None:
        return OK if n == 1 else b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"

    async with scripted_server(half, close_after=2) as server:
        p = pool()
        await post(p, local(server.port))
        with pytest.raises(ExchangeFailed, match="7 body bytes missing"):
            await post(p, local(server.port))
        await p.aclose()
    assert server.requests == [(1, 1), (1, 2)]


async def test_a_connection_the_server_closes_while_idle_is_dropped_from_the_pool() -> None:
    async with scripted_server(answer_ok, close_after=1) as server:
        p = pool(max_connections=1)
        assert (await post(p, local(server.port))).head.status == 204
        # The server drops the idle connection (its own keep-alive limit, unannounced): the
        # pool sees the close and frees the slot; the next request goes on a new connection.
        deadline = time.monotonic() + 5
        while p.open_connections and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert p.open_connections == 0
        assert (await post(p, local(server.port))).head.status == 204
        await p.aclose()
    assert server.requests == [(1, 1), (2, 1)]


async def test_no_more_than_max_connections_are_open_at_once() -> None:
    async def slowly(connection: int, n: int) -> bytes | None:
        await asyncio.sleep(0.05)
        return OK

    async with scripted_server(slowly) as server:
        p = pool(max_connections=2)
        answers = await asyncio.gather(*(post(p, local(server.port)) for _ in range(8)))
        await p.aclose()
    assert [a.head.status for a in answers] == [204] * 8
    assert server.most_open == 2 and server.connections == 2


async def test_an_idle_connection_to_another_origin_makes_room() -> None:
    async with scripted_server(answer_ok) as a, scripted_server(answer_ok) as b:
        p = pool(max_connections=1)
        await post(p, local(a.port))
        assert (await post(p, local(b.port))).head.status == 204
        await post(p, local(a.port))
        await p.aclose()
    assert (a.connections, b.connections) == (2, 1)


async def test_waiting_origins_take_turns_for_a_full_pool() -> None:
    order: list[str] = []
    async with scripted_server(answer_ok) as a, scripted_server(answer_ok) as b:
        p = pool(max_connections=1)

        async def send(name: str, origin: Origin) -> None:
            await post(p, origin)
            order.append(name)

        # The first "a" takes the only slot; the other five wait in the order they came.
        await asyncio.gather(
            *(send("a", local(a.port)) for _ in range(3)),
            *(send("b", local(b.port)) for _ in range(3)),
        )
        await p.aclose()
    assert order == ["a", "a", "b", "a", "b", "b"]


async def test_a_chunked_answer_in_pieces_is_read_whole() -> None:
    async def chunked(connection: int, n: int) -> bytes | None:
        return (
            b"HTTP/1.1 500 Oops\r\ntransfer-encoding: chunked\r\n\r\n"
            b"4\r\nnope\r\n6\r\n, sorr\r\n1\r\ny\r\n0\r\n\r\n"
        )

    async with scripted_server(chunked) as server:
        p = pool()
        first = await post(p, local(server.port))
        second = await post(p, local(server.port))
        await p.aclose()
    assert (first.head.status, first.body, first.truncated) == (500, b"nope, sorry", False)
    assert second.body == b"nope, sorry" and server.connections == 1


async def test_a_body_past_the_cap_is_cut_and_its_connection_dropped() -> None:
    async def big(connection: int, n: int) -> bytes | None:
        return b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n" + b"x" * 5000

    async with scripted_server(big) as server:
        p = pool()
        answer = await post(p, local(server.port), cap=100)
        assert (answer.body, answer.truncated) == (b"x" * 100, True)
        assert p.open_connections == 0
        await post(p, local(server.port), cap=100)
        await p.aclose()
    assert server.connections == 2


async def test_a_connection_slower_than_the_connect_limit_is_a_connect_timeout() -> None:
    async def black_hole(host: str, port: int) -> list[str]:
        await asyncio.sleep(10)  # a resolver that never answers counts against the limit too
        return ["127.0.0.1"]

    p = pool(connect_timeout=0.1, resolver=black_hole)
    with pytest.raises(ConnectTimedOut, match=r"took over 0\.1 s"):
        await post(p, ("http", "slow.test", 80))
    assert p.open_connections == 0


async def test_an_answer_not_whole_by_the_deadline_is_a_timeout_and_its_connection_closed() -> None:
    async def half_an_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()
        await asyncio.sleep(5)

    server = await asyncio.start_server(half_an_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    p = pool()
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await post(p, local(port), within=0.2)
        assert 0.15 < asyncio.get_running_loop().time() - started < 2
        assert p.open_connections == 0  # closed, not parked: its late bytes answer nobody
    finally:
        await p.aclose()
        server.close()


async def test_a_deadline_before_the_connect_limit_is_a_timeout_of_the_exchange() -> None:
    async def black_hole(host: str, port: int) -> list[str]:
        await asyncio.sleep(10)
        return ["127.0.0.1"]

    p = pool(connect_timeout=5.0, resolver=black_hole)
    with pytest.raises(TimeoutError):
        await post(p, ("http", "slow.test", 80), within=0.1)
    assert p.open_connections == 0


# -- TLS --------------------------------------------------------------------------------------


@pytest.fixture
def tls_contexts(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A throwaway self-signed certificate for hooks.test: (server context, client context)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-keyout", str(key), "-out", str(cert),
            "-subj", "/CN=hooks.test", "-addext", "subjectAltName=DNS:hooks.test",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


@contextlib.asynccontextmanager
async def tls_server(context: ssl.SSLContext) -> AsyncIterator[int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                writer.write(OK)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def to_loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


async def test_https_verifies_the_certificate_against_the_urls_host_name(
    tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_tls, client_tls = tls_contexts
    async with tls_server(server_tls) as port:
        p = pool(tls=client_tls, resolver=to_loopback)
        answers = [await post(p, ("https", "hooks.test", port)) for _ in range(3)]
        with pytest.raises(ConnectFailed, match=r"TLS with other\.test failed"):
            await post(p, ("https", "other.test", port))
        await p.aclose()
    assert [a.head.status for a in answers] == [204] * 3


async def test_https_refuses_a_certificate_nobody_vouches_for(
    tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_tls, _ = tls_contexts
    async with tls_server(server_tls) as port:
        p = pool(resolver=to_loopback)  # the system's trust store, as the sender uses
        with pytest.raises(ConnectFailed, match="certificate verify failed"):
            await post(p, ("https", "hooks.test", port))
        await p.aclose()
