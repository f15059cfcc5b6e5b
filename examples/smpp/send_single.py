#!/usr/bin/env python3
"""Send one SMS over the smsgate SMPP door and wait for its delivery receipt.

Uses smsgate's own SMPP client (`smsgate.smpp`). A long or non-GSM text is split as the
gateway splits it, into UDH parts; each part gets its own id, and a receipt each. Prints
`ids: ...` and one `receipt: ...` line per receipt; exits 1 when the door refuses the bind or
a part (`refused: submit_sm_resp command_status 0x0B ESME_RINVDSTADR`), or when an answer or
a receipt has not come within a minute.

    SMSGATE_SMPP_PASSWORD=... python examples/smpp/send_single.py 380501234567 "Hello"

Defaults are what `make run` starts: 127.0.0.1:2775, login demo, sender smsgate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from smsgate.domain.segments import split_text
from smsgate.smpp.client import BindFailed, BindType, SmppClient
from smsgate.smpp.constants import ESM_UDHI, CommandStatus
from smsgate.smpp.pdu import DataSm, DeliverSm, SubmitSm, SubmitSmResp
from smsgate.smpp.udh import build_concat_udh

WAIT = 60.0  # seconds for every answer and receipt


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phone", help="international digits, e.g. 380501234567")
    parser.add_argument("text")
    env = os.environ.get
    parser.add_argument("--host", default=env("SMSGATE_SMPP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("SMSGATE_SMPP_PORT", "2775")))
    parser.add_argument("--login", default=env("SMSGATE_LOGIN", "demo"))
    parser.add_argument(
        "--password", default=env("SMSGATE_SMPP_PASSWORD", ""), help="the SMPP password"
    )
    parser.add_argument("--sender", default=env("SMSGATE_SENDER", "smsgate"))
    return parser.parse_args()


def submits(sender: str, phone: str, text: str) -> list[SubmitSm]:
    """The text as submit_sm PDUs: one, or UDH parts (8-bit reference) of a long message."""
    split = split_text(text)
    total = len(split.parts)
    ref = os.getpid() & 0xFF
    pdus = []
    for seq, payload in enumerate(split.parts, 1):
        udh = build_concat_udh(ref, total, seq) if total > 1 else b""
        pdus.append(
            SubmitSm(
                source_addr_ton=1 if sender.isdigit() else 5,  # international or alphanumeric
                source_addr=sender,
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr=phone,
                esm_class=ESM_UDHI if udh else 0,
                registered_delivery=1,
                data_coding=split.data_coding,
                short_message=udh + payload,
            )
        )
    return pdus


def status_name(status: int) -> str:
    try:
        return f"0x{status:02X} {CommandStatus(status).name}"
    except ValueError:
        return f"0x{status:02X}"


async def send(args: argparse.Namespace) -> int:
    receipts: list[str] = []
    arrived = asyncio.Event()

    def on_receipt(pdu: DeliverSm | DataSm) -> int:
        text = pdu.short_message if isinstance(pdu, DeliverSm) else b""
        receipts.append(text.decode("ascii", "replace"))
        arrived.set()
        return 0  # ESME_ROK: the door marks the receipt delivered

    client = SmppClient(
        args.host,
        args.port,
        args.login,
        args.password,
        BindType.TRANSCEIVER,
        reconnect=False,
        on_deliver=on_receipt,
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
                print(f"refused: bind_transceiver_resp command_status {status}")
            else:
                print(f"cannot bind: {error or 'no answer'}")
            return 1
        ids = []
        # One part at a time, each after the answer to the one before: the simplest client.
        for pdu in submits(args.sender, args.phone, args.text):
            resp = await client.request(pdu)
            if resp.command_status != 0 or not isinstance(resp, SubmitSmResp):
                print(f"refused: submit_sm_resp command_status {status_name(resp.command_status)}")
                return 1
            ids.append(resp.message_id)
        print("ids:", " ".join(ids))
        async with asyncio.timeout(WAIT):
            while len(receipts) < len(ids):
                arrived.clear()
                await arrived.wait()
        for receipt in receipts:
            print("receipt:", receipt)
        return 0
    except TimeoutError:
        print(f"timed out: {len(receipts)} receipts in {WAIT:.0f} s")
        return 1
    finally:
        await client.close(5.0)


def main() -> int:
    return asyncio.run(send(arguments()))


if __name__ == "__main__":
    sys.exit(main())
