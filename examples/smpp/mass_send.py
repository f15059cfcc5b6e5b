"""Send one text to many numbers over the smsgate SMPP door with smpplib: one submit_sm per
number (smpplib has no submit_multi), pipelined, then the id or the refusal of each number.

Usage: python mass_send.py HOST PORT LOGIN SMPP_PASSWORD SENDER "text" PHONE [PHONE ...]
A refused number shows its command_status: 0x0B bad number, 0x45 no money or duplicate,
0x58 over the account's rate limit (send slower and retry). Exits 1 when the bind is refused or
no number was accepted.
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
    host, port, login, password, sender, text, *phones = sys.argv[1:]
    client = smpplib.client.Client(host, int(port), timeout=1.0, allow_unknown_opt_params=True)
    answers: dict[int, object] = {}
    client.set_message_sent_handler(lambda pdu: answers.__setitem__(pdu.sequence, pdu))
    # A refused number is an answer too, not an exception that ends the run.
    client.set_error_pdu_handler(lambda pdu: answers.__setitem__(pdu.sequence, pdu))
    client.connect()
    try:
        client.bind_transmitter(system_id=login, password=password)
    except smpplib.exceptions.PDUError as error:
        print(f"refused: {error.args[0]}")
        client.disconnect()
        return 1
    parts, coding, esm_class = smpplib.gsm.make_parts(text)
    phone_of: dict[int, str] = {}
    for phone in phones:
        for part in parts:
            pdu = client.send_message(
                source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                source_addr=sender,
                dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                destination_addr=phone,
                short_message=part,
                data_coding=coding,
                esm_class=esm_class,
            )
            phone_of[pdu.sequence] = phone
    deadline = time.monotonic() + 30
    while len(answers) < len(phone_of) and time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            client.read_once(auto_send_enquire_link=False)
    accepted = 0
    for sequence, phone in phone_of.items():
        resp = answers.get(sequence)
        status = getattr(resp, "status", None)
        if status == 0:
            accepted += 1
            message_id = getattr(resp, "message_id", b"")
            print(
                f"{phone}: {message_id.decode() if isinstance(message_id, bytes) else message_id}"
            )
        else:
            print(f"{phone}: refused, command_status {status}")
    client.unbind()
    client.disconnect()
    return 0 if accepted else 1


if __name__ == "__main__":
    sys.exit(main())
