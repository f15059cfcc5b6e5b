"""A node's py-spy profile, grouped by the part of smsgate each sample is in: the share of
samples whose stack names each part (the first match in the list below wins).

  .venv/bin/python bench/peers.py --peers smsgate --seconds 25 --repeat 1 &
  .venv/bin/pip install py-spy   # not a dependency
  .venv/bin/py-spy record --pid <node pid> --duration 15 --rate 400 --gil --format raw -o prof.txt
  .venv/bin/python bench/profile_groups.py prof.txt
"""

from __future__ import annotations

import argparse
from collections import Counter

# (part, a frame name that puts a sample in it), most specific first.
PARTS = [
    ("writer: accepts", "accept_batch"),
    ("writer: receipts and submit answers", "SqlReceipts.apply_receipts"),
    ("writer: submit answers", "SqlReceipts.submitted"),
    ("writer: claims", "SqlClaims.claim_parts"),
    ("writer: outbox settled", "outbox_attempted"),
    ("writer: other", "ThreadWriter"),
    ("reads (aiosqlite)", "_connection_worker_thread"),
    ("checkpointer", "WalCheckpointer"),
    ("callbacks", "OutboxPump"),
    ("callbacks", "HttpSender"),
    ("callbacks", "webhooks/http11"),
    ("callbacks", "CallbackTransport"),
    ("http door", "RequestResponseCycle"),
    ("http door", "HttpToolsProtocol"),
    ("http door", "GuardedHttpProtocol"),
    ("http door", "DoorsApp"),
    ("smpp client and dispatch", "SessionProtocol"),
    ("smpp client and dispatch", "SmppClient"),
    ("smpp client and dispatch", "Connector"),
    ("smpp client and dispatch", "Dispatcher"),
    ("smpp client and dispatch", "OperatorResults"),
    ("batching", "BatchQueue"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", help="py-spy's --format raw output")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    shares: Counter[str] = Counter()
    total = 0
    with open(args.profile) as lines:
        for line in lines:
            stack, _, count = line.rstrip().rpartition(" ")
            if not stack:
                continue
            n = int(count)
            total += n
            part = next((name for name, frame in PARTS if frame in stack), None)
            if part is None:  # the innermost frame says where it was
                part = "other: " + stack.split(";")[-1].split(" (")[0]
            shares[part] += n
    for part, n in shares.most_common(args.top):
        print(f"{n * 100 / total:5.1f} %  {part}")


if __name__ == "__main__":
    main()
