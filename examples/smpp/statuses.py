#!/usr/bin/env python3
"""Ask the smsgate SMPP door for the status of messages with query_sm.

Standard library only: a raw SMPP v3.4 transmitter bind over a socket, to show the bytes.
Prints each id with its message_state (1 ENROUTE, 2 DELIVERED, 3 EXPIRED, 5 UNDELIVERABLE,
8 REJECTED), final_date and error_code; an unknown id answers ESME_RQUERYFAIL (0x67).

    SMSGATE_SMPP_PASSWORD=... python examples/smpp/statuses.py ID [ID ...]

Defaults are what `make run` starts: 127.0.0.1:2775, login demo.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys

STATES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 5: "UNDELIV", 8: "REJECTD"}


def cstr(value: str) -> bytes:
    return value.encode("ascii") + b"\0"


def pdu(command_id: int, sequence: int, body: bytes) -> bytes:
    return struct.pack("!IIII", 16 + len(body), command_id, 0, sequence) + body


def read_pdu(sock: socket.socket) -> tuple[int, int, bytes]:
    header = _read(sock, 16)
    length, command_id, status, _ = struct.unpack("!IIII", header)
    return command_id, status, _read(sock, length - 16)


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the door closed the connection")
        data += chunk
    return data


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="+", metavar="ID")
    env = os.environ.get
    parser.add_argument("--host", default=env("SMSGATE_SMPP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("SMSGATE_SMPP_PORT", "2775")))
    parser.add_argument("--login", default=env("SMSGATE_LOGIN", "demo"))
    parser.add_argument(
        "--password", default=env("SMSGATE_SMPP_PASSWORD", ""), help="the SMPP password"
    )
    return parser.parse_args()


def main() -> None:
    args = arguments()
    login, password, ids = args.login, args.password, args.ids
    with socket.create_connection((args.host, args.port), timeout=10) as sock:
        bind = cstr(login) + cstr(password) + cstr("") + bytes((0x34, 0, 0)) + cstr("")
        sock.sendall(pdu(0x00000002, 1, bind))  # bind_transmitter
        _, status, _ = read_pdu(sock)
        if status:
            sys.exit(f"bind refused: command_status 0x{status:02X}")
        for seq, message_id in enumerate(ids, 2):
            sock.sendall(pdu(0x00000003, seq, cstr(message_id) + bytes((0, 0)) + cstr("")))
            _, status, body = read_pdu(sock)
            if status:
                print(f"{message_id}: query failed, command_status 0x{status:02X}")
                continue
            got_id, final_date, rest = body.split(b"\0", 2)
            state, error = rest[0], rest[1]
            print(
                f"{got_id.decode()}: {STATES.get(state, state)} "
                f"final_date={final_date.decode() or '-'} error={error}"
            )
        sock.sendall(pdu(0x00000006, len(ids) + 2, b""))  # unbind
        read_pdu(sock)


if __name__ == "__main__":
    main()
