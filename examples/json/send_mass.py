#!/usr/bin/env python3
"""Send SMS to many recipients in one request through smsgate's JSON API.

Standard library only. With one --text, every recipient gets it (`POST /sms/send`, up to 100
phones). With as many --text as recipients, each gets its own text (`POST /v2/sms/send`,
`data_message` pairs). Prints the API's answer, one id per accepted recipient in
`success_request.info`; exits 1 on an error (an HTTP error status, or nothing accepted).

    python examples/json/send_mass.py 380501234567 380671234567 --text "Sale starts today"
    python examples/json/send_mass.py 380501234567 380671234567 --text "Hi Ann" --text "Hi Bob"
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
    parser.add_argument("phones", nargs="+")
    parser.add_argument("--text", action="append", required=True)
    parser.add_argument("--url", default=os.environ.get("SMSGATE_URL", "http://127.0.0.1:8080"))
    parser.add_argument(
        "--token",
        default=os.environ.get("SMSGATE_TOKEN", ""),
        help="API token; one may begin with '-', so give it as --token=TOKEN",
    )
    parser.add_argument("--sender", default=os.environ.get("SMSGATE_SENDER", "smsgate"))
    args = parser.parse_args()
    body: dict[str, object]
    if len(args.text) == 1:
        path = "/sms/send"
        body = {"phone": args.phones, "message": args.text[0], "src_addr": args.sender}
    elif len(args.text) == len(args.phones):
        path = "/v2/sms/send"
        pairs = zip(args.phones, args.text, strict=True)
        body = {
            "src_addr": args.sender,
            "data_message": [{"phone": phone, "message": text} for phone, text in pairs],
        }
    else:
        parser.error("give one --text for all recipients, or one per recipient")
    status, answer = post(args.url, path, args.token, body)
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
