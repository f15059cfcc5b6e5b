#!/usr/bin/env python3
"""Ask smsgate's legacy HTTP gateway for the account's balance and credit.

Standard library only. The answer is `<balance><br/><credit><br/>`, for example
`1000.0000<br/>0.0000<br/>`; an error is one sentence without digits. Prints the answer;
exits 1 on an error.

    python examples/http/balance.py
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import urllib.parse
import urllib.request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("SMSGATE_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--login", default=os.environ.get("SMSGATE_LOGIN", "demo"))
    parser.add_argument(
        "--token",
        default=os.environ.get("SMSGATE_TOKEN", ""),
        help="API token; one may begin with '-', so give it as --token=TOKEN",
    )
    parser.add_argument("--password", default=os.environ.get("SMSGATE_PASSWORD", ""))
    args = parser.parse_args()
    if args.token:
        path, auth = "/token/getbalance.php", {"username": args.login, "token": args.token}
    else:
        path, auth = "/http/getbalance.php", {"username": args.login, "password": args.password}
    url = f"{args.url.rstrip('/')}{path}?{urllib.parse.urlencode(auth)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        answer = response.read().decode("utf-8")
    print(answer)
    return 0 if re.match(r"-?\d+\.\d{4}<br/>", answer) else 1


if __name__ == "__main__":
    sys.exit(main())
