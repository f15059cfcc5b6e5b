"""Send one SMS over the smsgate SMPP door with smpplib and wait for its delivery receipt.

Usage: python single_sms.py HOST PORT LOGIN SMPP_PASSWORD SENDER PHONE "text"
Long or non-GSM texts are split by smpplib (UDH parts); each part gets its own id.
Exits 1 when the door refuses the bind or a part (`refused: (14) bind_transceiver_resp: …`,
the command_status first), or when an
id or a receipt has not come within a minute.
"""

from __future__ import annotations

import contextlib
import sys
import time

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm


def main() -> int:
    host, port, login, password, sender, phone, text = sys.argv[1:8]
    client = smpplib.client.Client(host, int(port), timeout=1.0, allow_unknown_opt_params=True)
    ids: list[str] = []
    receipts: list[str] = []
    client.set_message_sent_handler(lambda pdu: ids.append(_text(pdu.message_id)))

    def on_receipt(pdu: object = None) -> int:
        receipts.append(_text(getattr(pdu, "short_message", b"")))
        return 0

    client.set_message_received_handler(on_receipt)
    client.connect()
    try:
        client.bind_transceiver(system_id=login, password=password)
        parts, coding, esm_class = smpplib.gsm.make_parts(text)
        for part in parts:
            client.send_message(
                source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                source_addr=sender,
                dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                destination_addr=phone,
                short_message=part,
                data_coding=coding,
                esm_class=esm_class,
                registered_delivery=True,
            )
        deadline = time.monotonic() + 60
        while (len(ids) < len(parts) or len(receipts) < len(parts)) and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                client.read_once(auto_send_enquire_link=False)
        print("ids:", " ".join(ids))
        for receipt in receipts:
            print("receipt:", receipt)
        client.unbind()
    except smpplib.exceptions.PDUError as error:
        # smpplib raises on any refusal (bad password, bad number, no money): say which.
        print(f"refused: {error.args[0]}")
        return 1
    finally:
        client.disconnect()
    return 0 if len(ids) == len(receipts) == len(parts) else 1


def _text(value: object) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)


if __name__ == "__main__":
    sys.exit(main())
