"""A neutral operator SMSC for side-by-side runs: acks every submit_sm and sends its delivery
receipt a fixed delay later, to whichever ESME binds (Kannel or smsgate alike).

It shares no code with smsgate (not the codec, not the simulator) so neither peer is measured
against itself; it is ~200 lines of `struct` on asyncio (uvloop when installed). Counters are
written to a JSON file every 200 ms for the orchestrator (bench/peers.py) to read.

    python bench/peer_sink.py --port 2776 --receipt-delay 0.2 --stats /tmp/sink.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import struct
import time
from collections import deque
from pathlib import Path

HEADER = struct.Struct(">IIII")
BIND_IDS = {0x01, 0x02, 0x09}
SUBMIT_SM, DELIVER_SM, ENQUIRE_LINK, UNBIND = 0x04, 0x05, 0x15, 0x06
RESP = 0x80000000
GENERIC_NACK = 0x80000000
TAG_RECEIPTED_ID, TAG_MESSAGE_STATE = 0x001E, 0x0427


class Stats:
    def __init__(self) -> None:
        self.submits = 0
        self.receipts_sent = 0
        self.first_submit = 0.0
        self.last_submit = 0.0
        self.binds = 0

    def as_dict(self) -> dict[str, float]:
        return dict(vars(self))


def cstring(data: bytes, at: int) -> tuple[bytes, int]:
    end = data.index(b"\0", at)
    return data[at:end], end + 1


def submit_addresses(body: bytes) -> tuple[bytes, bytes]:
    """(source_addr, destination_addr) of a submit_sm body."""
    _, at = cstring(body, 0)  # service_type
    at += 2  # source ton, npi
    source, at = cstring(body, at)
    at += 2  # dest ton, npi
    destination, _ = cstring(body, at)
    return source, destination


def receipt_body(message_id: bytes, source: bytes, destination: bytes) -> bytes:
    stamp = time.strftime("%y%m%d%H%M", time.gmtime()).encode()
    text = (
        b"id:"
        + message_id
        + b" sub:001 dlvrd:001 submit date:"
        + stamp
        + b" done date:"
        + stamp
        + b" stat:DELIVRD err:000 text:"
    )
    # The receipt goes from the handset back to the sender: addresses swapped.
    return b"".join(
        (
            b"\0",  # service_type
            b"\x01\x01",
            destination,
            b"\0",
            b"\x05\x00",
            source,
            b"\0",
            bytes((0x04, 0, 0)),  # esm_class receipt, protocol_id, priority
            b"\0\0",  # schedule_delivery_time, validity_period
            bytes((0, 0, 0, 0, len(text))),  # registered, replace, coding, default id, sm_length
            text,
            struct.pack(">HH", TAG_RECEIPTED_ID, len(message_id) + 1),
            message_id,
            b"\0",
            struct.pack(">HHB", TAG_MESSAGE_STATE, 1, 2),
        )
    )


class Session(asyncio.Protocol):
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.sequence = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        self.sink.sessions.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.sink.sessions.discard(self)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        out: list[bytes] = []
        at = 0
        while len(buffer) - at >= 16:
            length, command, _status, sequence = HEADER.unpack_from(buffer, at)
            if length < 16 or length > 70_000:
                assert self.transport is not None
                self.transport.close()
                return
            if len(buffer) - at < length:
                break
            body = bytes(buffer[at + 16 : at + length])
            at += length
            out.append(self.handle(command, sequence, body))
        del buffer[:at]
        if out and self.transport is not None:
            self.transport.write(b"".join(out))

    def handle(self, command: int, sequence: int, body: bytes) -> bytes:
        if command == SUBMIT_SM:
            sink = self.sink
            stats = sink.stats
            now = time.monotonic()
            if not stats.submits:
                stats.first_submit = time.time()
            stats.submits += 1
            stats.last_submit = time.time()
            sink.next_id += 1
            message_id = str(sink.next_id).encode()
            source, destination = submit_addresses(body)
            sink.due.append((now + sink.delay, self, message_id, source, destination))
            return pdu(command | RESP, sequence, message_id + b"\0")
        if command in BIND_IDS:
            self.sink.stats.binds += 1
            return pdu(command | RESP, sequence, b"peersink\0")
        if command == ENQUIRE_LINK:
            return pdu(command | RESP, sequence, b"")
        if command == UNBIND:
            return pdu(command | RESP, sequence, b"")
        if command & RESP:
            return b""  # deliver_sm_resp and friends
        return pdu(GENERIC_NACK, sequence, b"", status=0x03)

    def next_sequence(self) -> int:
        self.sequence = self.sequence % 0x7FFFFFFF + 1
        return self.sequence


def pdu(command: int, sequence: int, body: bytes, status: int = 0) -> bytes:
    return HEADER.pack(16 + len(body), command, status, sequence) + body


class Sink:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.stats = Stats()
        self.sessions: set[Session] = set()
        self.due: deque[tuple[float, Session, bytes, bytes, bytes]] = deque()
        self.next_id = int(time.time()) * 1000  # distinct across restarts of the sink

    async def send_receipts(self) -> None:
        """One timer for every receipt: the delay is fixed, so `due` is already in order."""
        while True:
            await asyncio.sleep(0.005)
            now = time.monotonic()
            batches: dict[Session, list[bytes]] = {}
            due = self.due
            while due and due[0][0] <= now:
                _, session, message_id, source, destination = due.popleft()
                if session not in self.sessions:
                    continue  # the bind is gone: a real SMSC would queue it, this one drops it
                body = receipt_body(message_id, source, destination)
                batches.setdefault(session, []).append(
                    pdu(DELIVER_SM, session.next_sequence(), body)
                )
            for session, pdus in batches.items():
                if session.transport is not None:
                    session.transport.write(b"".join(pdus))
                    self.stats.receipts_sent += len(pdus)

    async def write_stats(self, path: Path) -> None:
        while True:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.stats.as_dict()))
            os.replace(tmp, path)
            await asyncio.sleep(0.2)


async def serve(port: int, delay: float, stats: Path) -> None:
    sink = Sink(delay)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Session(sink), "127.0.0.1", port)
    tasks = [
        asyncio.ensure_future(sink.send_receipts()),
        asyncio.ensure_future(sink.write_stats(stats)),
    ]
    async with server:
        await server.serve_forever()
    for task in tasks:
        task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--receipt-delay", type=float, default=0.2)
    parser.add_argument("--stats", type=Path, required=True)
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.receipt_delay, args.stats))


if __name__ == "__main__":
    main()
