#!/usr/bin/env python3
"""Send one text to many recipients through smsgate's legacy HTTP gateway, by POST.

Standard library only. Recipients go in one `to` parameter separated by `;` (up to 100 per
request). Prints the gateway's answer, one id per accepted recipient; exits 1 on an error.

    python examples/http/send_mass.py --text "Sale starts today" 380501234567 380671234567
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.parse
import urllib.request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phones", nargs="+")
    parser.add_argument("--text", required=True)
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
        path, auth = "/token/", {"username": args.login, "token": args.token}
    else:
        path, auth = "/http/", {"username": args.login, "password": args.password}
    params = {**auth, "from": args.sender, "to": ";".join(args.phones), "text": args.text}
    request = urllib.request.Request(
        f"{args.url.rstrip('/')}{path}",
        data=urllib.parse.urlencode(params).encode("ascii"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = response.read().decode("utf-8")
    print(answer)
    return 0 if answer.startswith("=IDS START=") else 1


if __name__ == "__main__":
    sys.exit(main())
