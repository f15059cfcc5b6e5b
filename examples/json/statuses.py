#!/usr/bin/env python3
"""Ask smsgate's JSON API for the statuses of messages by their ids (`POST /sms/status`).

Standard library only. `success_request.info` maps each id the account knows to ENROUTE,
DELIVRD, EXPIRED, UNDELIV or REJECTD; unknown ids (or another account's) show in `add_info`.
Prints the API's answer; exits 1 on an error (an HTTP error status, or no id known).

    python examples/json/statuses.py 803253430 803253431
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
    parser.add_argument("ids", nargs="+")
    parser.add_argument("--url", default=os.environ.get("SMSGATE_URL", "http://127.0.0.1:8080"))
    parser.add_argument(
        "--token",
        default=os.environ.get("SMSGATE_TOKEN", ""),
        help="API token; one may begin with '-', so give it as --token=TOKEN",
    )
    args = parser.parse_args()
    status, answer = post(args.url, "/sms/status", args.token, {"id_sms": args.ids})
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
        # 400, 401, 429 … carry a JSON answer of their own: show it, don't crash.
        return error.code, error.read().decode("utf-8")


if __name__ == "__main__":
    sys.exit(main())
