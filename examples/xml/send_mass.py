#!/usr/bin/env python3
"""Send many SMS through smsgate's XML gateway in one request.

Standard library only. With one --text, every recipient gets it (`POST /xml/`, recipients in one
`;`-separated `to`). With as many --text as recipients, each gets its own text
(`POST /xml/individual.php`, repeated `to`/`text` pairs). Prints the XML answer, one `<mess>` id
per accepted recipient; exits 1 when its status is ERROR.

    python examples/xml/send_mass.py 380501234567 380671234567 --text "Sale starts today"
    python examples/xml/send_mass.py 380501234567 380671234567 --text "Hi Ann" --text "Hi Bob"
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.request
from xml.sax.saxutils import escape


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phones", nargs="+")
    parser.add_argument("--text", action="append", required=True)
    parser.add_argument("--url", default=os.environ.get("SMSGATE_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--login", default=os.environ.get("SMSGATE_LOGIN", "demo"))
    parser.add_argument(
        "--token",
        default=os.environ.get("SMSGATE_TOKEN", ""),
        help="API token; one may begin with '-', so give it as --token=TOKEN",
    )
    parser.add_argument("--password", default=os.environ.get("SMSGATE_PASSWORD", ""))
    parser.add_argument("--sender", default=os.environ.get("SMSGATE_SENDER", "smsgate"))
    args = parser.parse_args()
    if len(args.text) == 1:
        path = "/xml/"
        messages = f"<to>{escape(';'.join(args.phones))}</to><text>{escape(args.text[0])}</text>"
    elif len(args.text) == len(args.phones):
        path = "/xml/individual.php"
        messages = "".join(
            f"<to>{escape(phone)}</to><text>{escape(text)}</text>"
            for phone, text in zip(args.phones, args.text, strict=True)
        )
    else:
        parser.error("give one --text for all recipients, or one per recipient")
    if args.token:
        secret = f"<token>{escape(args.token)}</token>"
    else:
        secret = f"<password>{escape(args.password)}</password>"
    body = (
        "<?xml version='1.0' encoding='utf-8'?><request_sendsms>"
        f"<username>{escape(args.login)}</username>{secret}"
        f"<from>{escape(args.sender)}</from>{messages}</request_sendsms>"
    )
    request = urllib.request.Request(
        f"{args.url.rstrip('/')}{path}",
        data=body.encode("utf-8"),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = response.read().decode("utf-8")
    print(answer)
    return 0 if "<status>OK</status>" in answer else 1


if __name__ == "__main__":
    sys.exit(main())
