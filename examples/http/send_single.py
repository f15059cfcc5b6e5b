#!/usr/bin/env python3
"""Send one SMS through smsgate's legacy HTTP gateway (plain text, `=IDS START=` replies).

Standard library only. Uses the token style (`/token/`) when SMSGATE_TOKEN or --token is given,
the older password style (`/http/`) otherwise. Prints the gateway's answer; exits 1 on an error.

    python examples/http/send_single.py 380501234567 "Hello from smsgate"
    python examples/http/send_single.py 380501234567 "Привіт" --charset cp1251
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.parse
import urllib.request


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
    parser.add_argument(
        "--charset", default="utf-8", help="utf-8 or cp1251 (Windows-1251), as old clients send"
    )
    args = parser.parse_args()
    if args.token:
        path, auth = "/token/", {"username": args.login, "token": args.token}
    else:
        path, auth = "/http/", {"username": args.login, "password": args.password}
    params = {**auth, "from": args.sender, "to": args.phone, "text": args.text}
    query = urllib.parse.urlencode(params, encoding=args.charset)
    url = f"{args.url.rstrip('/')}{path}?{query}"
    with urllib.request.urlopen(url, timeout=30) as response:
        answer = response.read().decode("utf-8")
    print(answer)
    return 0 if answer.startswith("=IDS START=") else 1


if __name__ == "__main__":
    sys.exit(main())
