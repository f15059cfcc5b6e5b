#!/usr/bin/env python3
"""Send one SMS through smsgate's JSON API (`POST /sms/send`, `Authorization: Bearer TOKEN`).

Standard library only. The answer's `success_request.info` maps each new id to its phone; a
refused recipient shows in `add_info` instead. Prints the API's answer; exits 1 on an error
(an HTTP error status, or nothing accepted).

    SMSGATE_TOKEN=... python examples/json/send_single.py 380501234567 "Hello from smsgate"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phone")
    parser.add_argument("text")
    parser.add_argument("--url", default=os.environ.get("SMSGATE_URL", "http://127.0.0.1:8080"))
    parser.add_argument(
        "--token",
        default=os.environ.get("SMSGATE_TOKEN", ""),
        help="API token; one may begin with '-', so give it as --token=TOKEN",
    )
    parser.add_argument("--sender", default=os.environ.get("SMSGATE_SENDER", "smsgate"))
    args = parser.parse_args()
    body = {"phone": [args.phone], "message": args.text, "src_addr": args.sender}
    status, answer = post(args.url, "/sms/send", args.token, body)
    print(answer)
    return 0 if status == 200 and "info" in json.loads(answer).get("success_request", {}) else 1


def post(base_url: str, path: str, token: str, body: object) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{base_url.rstrip('/')}{path}",
        data=json.dumps(body).encode("utf-8"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        # 400, 401, 429, 453 … carry a JSON answer of their own: show it, don't crash.
        return error.code, error.read().decode("utf-8")


if __name__ == "__main__":
    sys.exit(main())
