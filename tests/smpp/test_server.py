"""The asyncio SMPP server over loopback: handler dispatch, windows, timers and shutdown."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from smsgate.smpp.connection import FLUSH_EVERY, WRITE_HIGH_WATER
from smsgate.smpp.constants import CommandId, CommandStatus
from smsgate.smpp.pdu import (
    BindTransceiver,
    BindTransmitter,
    DeliverSm,
    EnquireLink,
    GenericNack,
    Pdu,
    QuerySm,
    SubmitSm,
    Unbind,
    decode,
    encode,
    make_response,
)
from smsgate.smpp.server import (
    NO_REPLY,
    HandlerResult,
    Reply,
    ServerSession,
    SmppHandler,
    SmppServer,
)

S = CommandStatus
T = 5.0  # every await in these tests is bounded by this


class Peer:
    """A bare ESME on a socket: writes PDUs, reads PDUs, no session logic of ours."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, *pdus: Pdu) -> None:
        self.writer.write(b"".join(encode(p) for p in pdus))
        await self.writer.drain()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read(self) -> Pdu:
        header = await asyncio.wait_for(self.reader.readexactly(4), T)
        (length,) = struct.unpack("!I", header)
        body = await asyncio.wait_for(self.reader.readexactly(length - 4), T)
        return decode(header + body)

    async def closed(self) -> bool:
        data = await asyncio.wait_for(self.reader.read(), T)
        return data == b""

    async def bind(self, system_id: str = "user", password: str = "pw") -> Pdu:
        await self.send(BindTransceiver(sequence_number=1, system_id=system_id, password=password))
        return await self.read()

    def close(self) -> None:
        self.writer.close()


@asynccontextmanager
async def serving(handler: SmppHandler, **options: object) -> AsyncIterator[SmppServer]:
    server = SmppServer(handler, "127.0.0.1", 0, **options)  # type: ignore[arg-type]
    await server.start()
    try:
        yield server
    finally:
        await asyncio.wait_for(server.stop(timeout=1.0), T)


@asynccontextmanager
async def peer(server: SmppServer) -> AsyncIterator[Peer]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", server.port), T)
    p = Peer(reader, writer)
    try:
        yield p
    finally:
        p.close()


class Accounts(SmppHandler):
    def __init__(self) -> None:
        self.sessions: list[ServerSession] = []
        self.unbound: list[ServerSession] = []
        self.closed: list[ServerSession] = []
        self.delivered: list[tuple[Pdu, Pdu]] = []

    def on_bind(self, session: ServerSession, pdu: Pdu) -> int:
        if getattr(pdu, "password", "") != "pw":
            return S.ESME_RINVPASWD
        self.sessions.append(session)
        return S.ESME_ROK

    def on_submit(self, session: ServerSession, pdu: SubmitSm) -> HandlerResult:
        return Reply(message_id="m-" + pdu.destination_addr)

    def on_unbind(self, session: ServerSession) -> None:
        self.unbound.append(session)

    def on_close(self, session: ServerSession) -> None:
        self.closed.append(session)

    def on_deliver_resp(self, session: ServerSession, request: Pdu, response: Pdu) -> None:
        self.delivered.append((request, response))


async def test_bind_is_decided_by_the_handler() -> None:
    async with serving(Accounts()) as server:
        async with peer(server) as good:
            answer = await good.bind(password="pw")
            assert answer.command_id == CommandId.BIND_TRANSCEIVER_RESP
            assert answer.command_status == 0 and answer.system_id == "smsgate"
        async with peer(server) as bad:
            answer = await bad.bind(password="nope")
            assert answer.command_status == S.ESME_RINVPASWD


async def test_submit_gets_the_handlers_message_id_with_its_sequence_number() -> None:
    async with serving(Accounts()) as server, peer(server) as p:
        await p.bind()
        await p.send(SubmitSm(sequence_number=41, destination_addr="380501"))
        answer = await p.read()
        assert answer.command_id == CommandId.SUBMIT_SM_RESP
        assert (answer.sequence_number, answer.message_id) == (41, "m-380501")


async def test_async_handler_answers_too() -> None:
    class Slow(Accounts):
        async def on_submit(self, session: ServerSession, pdu: SubmitSm) -> HandlerResult:  # type: ignore[override]
            await asyncio.sleep(0.01)
            return Reply(message_id="later")

    async with serving(Slow()) as server, peer(server) as p:
        await p.bind()
        await p.send(SubmitSm(sequence_number=2))
        assert (await p.read()).message_id == "later"


async def test_handler_exception_is_a_system_error_not_a_dead_session() -> None:
    class Broken(Accounts):
        def on_submit(self, session: ServerSession, pdu: SubmitSm) -> HandlerResult:
            if pdu.destination_addr == "boom":
                raise RuntimeError("handler bug")
            return Reply(message_id="ok")

    async with serving(Broken()) as server, peer(server) as p:
        await p.bind()
        await p.send(SubmitSm(sequence_number=2, destination_addr="boom"))
        failed = await p.read()
        assert (failed.command_status, failed.sequence_number) == (S.ESME_RSYSERR, 2)
        await p.send(SubmitSm(sequence_number=3, destination_addr="fine"))
        assert (await p.read()).message_id == "ok"


async def test_default_handler_refuses_operations_it_does_not_implement() -> None:
    async with serving(Accounts()) as server, peer(server) as p:
        await p.bind()
        await p.send(QuerySm(sequence_number=2, message_id="1"))
        assert (await p.read()).command_status == S.ESME_RQUERYFAIL


async def test_submit_before_bind_is_refused_and_the_connection_stays() -> None:
    async with serving(Accounts()) as server, peer(server) as p:
        await p.send(SubmitSm(sequence_number=5))
        refused = await p.read()
        assert (refused.command_status, refused.sequence_number) == (S.ESME_RINVBNDSTS, 5)
        assert (await p.bind()).command_status == 0


async def test_malformed_pdu_gets_generic_nack_and_the_session_lives_on() -> None:
    async with serving(Accounts()) as server, peer(server) as p:
        await p.bind()
        await p.send_raw(struct.pack("!IIII", 16, 0x0000_0777, 0, 9))
        nack = await p.read()
        assert isinstance(nack, GenericNack) and nack.sequence_number == 9
        await p.send(EnquireLink(sequence_number=10))
        assert (await p.read()).command_id == CommandId.ENQUIRE_LINK_RESP


async def test_peer_that_never_binds_is_disconnected() -> None:
    async with serving(Accounts(), session_init_timeout=0.2) as server, peer(server) as p:
        assert await p.closed()


async def test_silent_bound_peer_is_disconnected_after_inactivity() -> None:
    handler = Accounts()
    options = {"inactivity_timeout": 0.3, "enquire_link_interval": None}
    async with serving(handler, **options) as server, peer(server) as p:
        await p.bind()
        assert await p.closed()
    assert len(handler.closed) == 1


async def test_no_reply_leaves_the_request_unanswered() -> None:
    class Mute(Accounts):
        def on_submit(self, session: ServerSession, pdu: SubmitSm) -> HandlerResult:
            return NO_REPLY

    async with serving(Mute()) as server, peer(server) as p:
        await p.bind()
        await p.send(SubmitSm(sequence_number=2), EnquireLink(sequence_number=3))
        assert (await p.read()).sequence_number == 3  # only the enquire_link is answered


async def test_after_sent_hook_runs_only_after_the_response_is_written() -> None:
    class Receipting(Accounts):
        def on_submit(self, session: ServerSession, pdu: SubmitSm) -> HandlerResult:
            receipt = DeliverSm(esm_class=0x04, short_message=b"id:r1 stat:DELIVRD")
            return Reply(message_id="r1", after_sent=lambda: session.deliver_nowait(receipt))

    async with serving(Receipting()) as server, peer(server) as p:
        await p.bind()
        await p.send(SubmitSm(sequence_number=2))
        first, second = await p.read(), await p.read()
        assert first.command_id == CommandId.SUBMIT_SM_RESP and first.message_id == "r1"
        assert isinstance(second, DeliverSm)


async def test_in_a_burst_bigger_than_one_flush_no_receipt_overtakes_its_response() -> None:
    class Receipting(Accounts):
        def on_submit(self, session: ServerSession, pdu: SubmitSm) -> HandlerResult:
            mid = f"m{pdu.sequence_number}"
            receipt = DeliverSm(esm_class=0x04, short_message=f"id:{mid} stat:DELIVRD".encode())
            return Reply(message_id=mid, after_sent=lambda: session.deliver_nowait(receipt))

    count = 3 * FLUSH_EVERY + 5  # answers go out in several early flushes
    async with serving(Receipting(), window=count) as server, peer(server) as p:
        await p.bind()
        await p.send(*(SubmitSm(sequence_number=n) for n in range(2, count + 2)))
        seen: list[str] = []
        while len(seen) < 2 * count:
            pdu = await p.read()
            if isinstance(pdu, DeliverSm):
                seen.append("receipt " + pdu.short_message.decode().split()[0][3:])
                await p.send(make_response(pdu))
            else:
                seen.append("resp " + pdu.message_id)  # type: ignore[attr-defined]
        for n in range(2, count + 2):
            assert seen.index(f"resp m{n}") < seen.index(f"receipt m{n}")


async def test_a_handler_may_answer_with_a_future_and_its_failure_is_rsyserr() -> None:
    loop = asyncio.get_running_loop()
    answers: dict[str, asyncio.Future[HandlerResult]] = {}

    class Later(Accounts):
        def on_submit(self, session: ServerSession, pdu: SubmitSm) -> HandlerResult:  # type: ignore[override]
            answers[pdu.destination_addr] = future = loop.create_future()
            return future  # type: ignore[return-value]

    async with serving(Later()) as server, peer(server) as p:
        await p.bind()
        await p.send(
            SubmitSm(sequence_number=2, destination_addr="ok"),
            SubmitSm(sequence_number=3, destination_addr="bad"),
        )
        for _ in range(100):
            if len(answers) == 2:
                break
            await asyncio.sleep(0.01)
        answers["bad"].set_exception(RuntimeError("boom"))
        answers["ok"].set_result(Reply(message_id="m-ok"))
        first, second = await p.read(), await p.read()
        assert (first.sequence_number, first.command_status) == (3, S.ESME_RSYSERR)
        assert (second.sequence_number, second.command_status) == (2, 0)
        assert second.message_id == "m-ok"  # type: ignore[attr-defined]
        assert server._tasks == set()  # answered futures are not kept


async def test_deliver_waits_for_the_response_and_respects_the_window() -> None:
    handler = Accounts()
    async with serving(handler, window=2) as server, peer(server) as p:
        await p.bind()
        session = handler.sessions[0]
        tasks = [
            asyncio.ensure_future(session.deliver(DeliverSm(source_addr=str(i)))) for i in range(3)
        ]
        first, second = await p.read(), await p.read()
        await asyncio.sleep(0.05)
        assert session.outbound_pending == 3  # the third waits for a slot, not on the wire
        await p.send(make_response(first))
        third = await p.read()
        await p.send(make_response(second), make_response(third, S.ESME_RX_T_APPN))
        responses = await asyncio.wait_for(asyncio.gather(*tasks), T)
        assert [r.command_status for r in responses] == [0, 0, S.ESME_RX_T_APPN]
        assert len(handler.delivered) == 3


async def test_deliver_after_the_peer_left_fails_its_future_not_the_caller() -> None:
    handler = Accounts()
    async with serving(handler) as server, peer(server) as p:
        await p.bind()
        session = handler.sessions[0]
        await p.send(Unbind(sequence_number=2))
        await p.read()
        assert await p.closed()
        for _ in range(100):
            if handler.closed:
                break
            await asyncio.sleep(0.01)
        assert handler.closed == [session]
        future = session.deliver(DeliverSm())  # a receipt pump's batch: no raise here
        assert asyncio.isfuture(future)  # a plain future: no task per receipt
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(future, T)


async def test_deliver_to_a_transmitter_bind_is_never_sent() -> None:
    handler = Accounts()
    async with serving(handler) as server, peer(server) as p:
        await p.send(BindTransmitter(sequence_number=1, system_id="u", password="pw"))
        await p.read()
        session = handler.sessions[0]
        assert not session.can_receive
        session.deliver_nowait(DeliverSm())
        await p.send(EnquireLink(sequence_number=2))
        assert (await p.read()).command_id == CommandId.ENQUIRE_LINK_RESP
        assert session.outbound_pending == 1


async def test_peer_unbind_is_answered_and_reported() -> None:
    handler = Accounts()
    async with serving(handler) as server, peer(server) as p:
        await p.bind()
        await p.send(Unbind(sequence_number=2))
        answer = await p.read()
        assert answer.command_id == CommandId.UNBIND_RESP
        assert await p.closed()
    assert len(handler.unbound) == 1


async def test_stop_unbinds_every_peer() -> None:
    handler = Accounts()
    server = SmppServer(handler, "127.0.0.1", 0)
    await server.start()
    peers = []
    for _ in range(5):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        peers.append(Peer(reader, writer))
    for p in peers:
        await p.bind()

    async def answer_unbind(p: Peer) -> None:
        unbind = await p.read()
        assert unbind.command_id == CommandId.UNBIND
        await p.send(make_response(unbind))

    stopping = asyncio.ensure_future(server.stop(timeout=2.0))
    await asyncio.wait_for(asyncio.gather(*(answer_unbind(p) for p in peers)), T)
    await asyncio.wait_for(stopping, T)
    assert all([await p.closed() for p in peers])
    assert len(handler.closed) == 5
    for p in peers:
        p.close()


async def test_many_concurrent_sessions_each_get_their_own_answers() -> None:
    async with serving(Accounts()) as server:

        async def one(n: int) -> str:
            async with peer(server) as p:
                await p.bind()
                await p.send(SubmitSm(sequence_number=2, destination_addr=str(n)))
                return str((await p.read()).message_id)

        ids = await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(30))), T)
        assert ids == [f"m-{n}" for n in range(30)]


async def test_submit_and_unbind_in_one_write_get_submit_resp_before_unbind_resp() -> None:
    class Stored(Accounts):
        """Answers a submit once its (simulated) store write is done: a later loop turn."""

        def __init__(self) -> None:
            super().__init__()
            self.charged: list[str] = []

        async def on_submit(self, session: ServerSession, pdu: SubmitSm) -> HandlerResult:  # type: ignore[override]
            await asyncio.sleep(0.05)
            self.charged.append(pdu.destination_addr)
            return Reply(message_id="m-" + pdu.destination_addr)

    handler = Stored()
    async with serving(handler) as server, peer(server) as p:
        await p.bind()
        await p.send(
            SubmitSm(sequence_number=2, destination_addr="380501"),
            SubmitSm(sequence_number=3, destination_addr="380502"),
            Unbind(sequence_number=4),
        )
        answers = [await p.read(), await p.read(), await p.read()]
        assert [(a.command_id, a.sequence_number) for a in answers] == [
            (CommandId.SUBMIT_SM_RESP, 2),
            (CommandId.SUBMIT_SM_RESP, 3),
            (CommandId.UNBIND_RESP, 4),
        ]
        assert [a.message_id for a in answers[:2]] == ["m-380501", "m-380502"]
        assert handler.charged == ["380501", "380502"]
        assert await p.closed()


async def test_an_answer_for_a_session_that_closed_meanwhile_is_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Late(Accounts):
        """Answers each submit from a callback that runs after the session has closed."""

        def on_submit(self, session: ServerSession, pdu: SubmitSm) -> HandlerResult:  # type: ignore[override]
            future: asyncio.Future[HandlerResult] = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(future.set_result, Reply(message_id="late"))
            return future  # type: ignore[return-value]

    handler = Late()
    caplog.set_level("DEBUG", logger="smsgate.smpp.server")
    async with serving(handler) as server, peer(server) as p:
        await p.bind()
        # The submit is handed to the handler, then a command_length no PDU can have closes
        # the session in the same read, before the handler's answer comes.
        await p.send_raw(
            encode(SubmitSm(sequence_number=2, destination_addr="1"))
            + struct.pack("!IIII", 0xFFFFFF, 4, 0, 3)
        )
        nack = await p.read()
        assert isinstance(nack, GenericNack) and nack.command_status == S.ESME_RINVCMDLEN
        assert await p.closed()
        deadline = asyncio.get_running_loop().time() + T
        while not handler.closed and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        assert handler.closed
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "WARNING")]
    assert errors == []
    assert any("session closed" in r.getMessage() for r in caplog.records)


async def test_a_peer_that_never_reads_is_paused_then_dropped_with_a_bounded_buffer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A real loopback socket with a 4 KB receive buffer that streams enquire_link and reads
    # nothing: every one makes an answer the gateway cannot send.
    options = {"write_stall_timeout": 1.0, "session_init_timeout": None}
    loop = asyncio.get_running_loop()
    async with serving(Accounts(), **options) as server:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", server.port)), T)
            burst = b"".join(encode(EnquireLink(sequence_number=n)) for n in range(1, 1025))
            deadline = loop.time() + 10.0
            largest = sent = 0
            seen = False
            while loop.time() < deadline:
                try:
                    sent += sock.send(burst)
                except BlockingIOError:
                    pass  # the gateway stopped reading us: that is the point
                except (ConnectionResetError, BrokenPipeError):
                    break
                for session in list(server.sessions):
                    seen = True
                    transport = session._conn.transport
                    if transport is not None:
                        largest = max(largest, transport.get_write_buffer_size())
                if seen and not server.sessions:
                    break
                await asyncio.sleep(0.005)
            assert seen and not server.sessions, "the never-reading peer was not dropped"
        finally:
            sock.close()
    assert sent > WRITE_HIGH_WATER  # the peer did stream (answers are as large as requests)
    # Paused at the high-water mark: at most one read's answers land above it.
    assert largest <= WRITE_HIGH_WATER + 256 * 1024
    assert any("read nothing" in r.getMessage() for r in caplog.records)


async def test_a_connection_past_the_cap_is_closed_at_once_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    async with serving(Accounts(), max_connections=2) as server:
        async with peer(server) as first, peer(server) as second:
            assert (await first.bind()).command_status == 0  # bound or not, both count
            async with peer(server) as third:
                assert await third.closed()  # nothing read from it, nothing answered
            assert len(server.sessions) == 2
            assert (await second.bind()).command_status == 0  # the two kept are served
        deadline = loop.time() + T
        while server.sessions and loop.time() < deadline:
            await asyncio.sleep(0.01)
        async with peer(server) as later:  # the places freed are taken again
            assert (await later.bind()).command_status == 0
    refused = [r for r in caplog.records if getattr(r, "event", "") == "smpp_connection_refused"]
    assert len(refused) == 1 and "the cap of 2 open connections" in refused[0].getMessage()
