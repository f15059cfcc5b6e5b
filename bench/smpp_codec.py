"""Throughput of the SMPP codec on the hot PDUs, one core, printed with the machine it ran on.

Run: .venv/bin/python bench/smpp_codec.py [--seconds 1.0]. Measures only smsgate.smpp.pdu; it
must not open sockets or touch the store.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable

from smsgate.smpp.constants import ESM_DELIVERY_RECEIPT, Tag
from smsgate.smpp.pdu import DeliverSm, DeliverSmResp, SubmitSm, SubmitSmResp, decode, encode


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ops_per_second(action: Callable[[], object], seconds: float) -> float:
    """Best of five runs of about seconds/5 each, so a stray scheduler hiccup does not count."""
    batch = 10_000
    best = 0.0
    for _ in range(5):
        done = 0
        start = time.perf_counter()
        deadline = start + seconds / 5
        while True:
            for _ in range(batch):
                action()
            done += batch
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, done / (now - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()

    submit = SubmitSm(
        source_addr="Shop",
        source_addr_ton=5,
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="380501234567",
        registered_delivery=1,
        short_message=b"Your code is 123456. Do not share it with anyone.",
        sequence_number=123_456,
    )
    receipt = DeliverSm(
        source_addr="380501234567",
        destination_addr="Shop",
        esm_class=ESM_DELIVERY_RECEIPT,
        short_message=(
            b"id:0123456789 sub:001 dlvrd:001 submit date:2405011200 done date:2405011201 "
            b"stat:DELIVRD err:000 text:Your code is 123456"
        ),
        tlvs={Tag.RECEIPTED_MESSAGE_ID: "0123456789", Tag.MESSAGE_STATE: 2},
        sequence_number=99,
    )
    submit_resp = SubmitSmResp(message_id="0123456789abcdef", sequence_number=123_456)
    deliver_resp = DeliverSmResp(sequence_number=99)

    cases: list[tuple[str, Callable[[], object]]] = []
    for name, pdu in [
        ("submit_sm", submit),
        ("submit_sm_resp", submit_resp),
        ("deliver_sm (receipt + 2 TLVs)", receipt),
        ("deliver_sm_resp", deliver_resp),
    ]:
        wire = encode(pdu)
        assert decode(wire) == pdu
        cases.append((f"encode {name}", lambda pdu=pdu: encode(pdu)))
        cases.append((f"decode {name}", lambda wire=wire: decode(wire)))

    print(f"machine: {_cpu_model()}, {os.cpu_count()} cores, {platform.system()}")
    print(f"python: {platform.python_implementation()} {sys.version.split()[0]} ({sys.executable})")
    for name, action in cases:
        print(f"{name:40s} {_ops_per_second(action, args.seconds):>12,.0f} ops/s")


if __name__ == "__main__":
    main()
