#!/usr/bin/env python3
"""List the account's active sender names through smsgate's JSON API (`POST /sms/originator`).

Standard library only. The answer is `{"success_request": {"info": ["smsgate", …]}}`; a name
must be in this list to be used as `src_addr`. Prints the API's answer; exits 1 on an error
(an HTTP error status such as 401).

    SMSGATE_TOKEN=... python examples/json/senders.py
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
    parser.add_argument("--url", default=os.environ.get("SMSGATE_URL", "http://127.0.0.1:8080"))
    parser.add_argument(
        "--token",
        default=os.environ.get("SMSGATE_TOKEN", ""),
        help="API token; one may begin with '-', so give it as --token=TOKEN",
    )
    args = parser.parse_args()
    status, answer = post(args.url, "/sms/originator", args.token)
    print(answer)
    info = json.loads(answer).get("success_request", {}).get("info")
    return 0 if status == 200 and isinstance(info, list) else 1


def post(base_url: str, path: str, token: str) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{base_url.rstrip('/')}{path}",
        data=b"",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        # 401, 429 … carry a JSON answer of their own: show it, don't crash.
        return error.code, error.read().decode("utf-8")


if __name__ == "__main__":
    sys.exit(main())
