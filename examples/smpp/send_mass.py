#!/usr/bin/env python3
"""Send one text to many numbers over the smsgate SMPP door: one submit_sm per number, all
in flight at once (the client keeps its window), then the id or the refusal of each number.

Uses smsgate's own SMPP client (`smsgate.smpp`). A refused number shows its command_status:
0x0B bad number, 0x45 no money or duplicate, 0x58 over the account's rate limit (the client
retries that one itself a few times). A text longer than one SMS goes as message_payload, so
each number is one submit_sm. Exits 1 when the bind is refused or no number was accepted.

    SMSGATE_SMPP_PASSWORD=... python examples/smpp/send_mass.py "Hello" 380501234567 380671234567

Defaults are what `make run` starts: 127.0.0.1:2775, login demo, sender smsgate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from smsgate.domain.segments import split_text
from smsgate.smpp.client import BindFailed, BindType, SmppClient
from smsgate.smpp.constants import CommandStatus, Tag
from smsgate.smpp.pdu import Pdu, SubmitSm, SubmitSmResp

WAIT = 30.0  # seconds for the bind and every answer


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("text")
    parser.add_argument("phones", nargs="+", metavar="PHONE")
    env = os.environ.get
    parser.add_argument("--host", default=env("SMSGATE_SMPP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("SMSGATE_SMPP_PORT", "2775")))
    parser.add_argument("--login", default=env("SMSGATE_LOGIN", "demo"))
    parser.add_argument(
        "--password", default=env("SMSGATE_SMPP_PASSWORD", ""), help="the SMPP password"
    )
    parser.add_argument("--sender", default=env("SMSGATE_SENDER", "smsgate"))
    return parser.parse_args()


def submit_to(sender: str, phone: str, text: str) -> SubmitSm:
    split = split_text(text)
    payload = b"".join(split.parts)
    long = len(split.parts) > 1
    return SubmitSm(
        source_addr_ton=1 if sender.isdigit() else 5,  # international or alphanumeric
        source_addr=sender,
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr=phone,
        data_coding=split.data_coding,
        short_message=b"" if long else payload,
        tlvs={Tag.MESSAGE_PAYLOAD: payload} if long else {},
    )


def status_name(status: int) -> str:
    try:
        return f"0x{status:02X} {CommandStatus(status).name}"
    except ValueError:
        return f"0x{status:02X}"


async def send(args: argparse.Namespace) -> int:
    client = SmppClient(
        args.host,
        args.port,
        args.login,
        args.password,
        BindType.TRANSMITTER,
        reconnect=False,
        response_timeout=WAIT,
    )
    await client.start()
    try:
        try:
            await client.wait_bound(WAIT)
        except Exception:
            error = client.last_error
            if isinstance(error, BindFailed):
                status = status_name(error.command_status)
                print(f"refused: bind_transmitter_resp command_status {status}")
            else:
                print(f"cannot bind: {error or 'no answer'}")
            return 1
        # submit() waits for a free slot in the window and retries THROTTLED answers.
        answers: list[Pdu | BaseException] = await asyncio.gather(
            *(client.submit(submit_to(args.sender, phone, args.text)) for phone in args.phones),
            return_exceptions=True,
        )
        accepted = 0
        for phone, answer in zip(args.phones, answers, strict=True):
            if isinstance(answer, SubmitSmResp) and answer.command_status == 0:
                accepted += 1
                print(f"{phone}: {answer.message_id}")
            elif isinstance(answer, Pdu):
                print(f"{phone}: refused, command_status {status_name(answer.command_status)}")
            else:
                print(f"{phone}: no answer ({answer})")
        return 0 if accepted else 1
    finally:
        await client.close(5.0)


def main() -> int:
    return asyncio.run(send(arguments()))


if __name__ == "__main__":
    sys.exit(main())
