#!/usr/bin/env python3
"""Send one SMS through smsgate's XML gateway (`POST /xml/`, root `request_sendsms`).

Standard library only. Authenticates with SMSGATE_PASSWORD (or --password), or with a `token`
element when SMSGATE_TOKEN (or --token) is given. Prints the gateway's XML answer; exits 1 when
its status is ERROR.

    python examples/xml/send_single.py 380501234567 "Hello from smsgate"
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.request
from xml.sax.saxutils import escape


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phone")
    parser.add_argument("text")
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
    if args.token:
        secret = f"<token>{escape(args.token)}</token>"
    else:
        secret = f"<password>{escape(args.password)}</password>"
    body = (
        "<?xml version='1.0' encoding='utf-8'?><request_sendsms>"
        f"<username>{escape(args.login)}</username>{secret}"
        f"<from>{escape(args.sender)}</from><to>{escape(args.phone)}</to>"
        f"<text>{escape(args.text)}</text></request_sendsms>"
    )
    request = urllib.request.Request(
        f"{args.url.rstrip('/')}/xml/",
        data=body.encode("utf-8"),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = response.read().decode("utf-8")
    print(answer)
    return 0 if "<status>OK</status>" in answer else 1


if __name__ == "__main__":
    sys.exit(main())
