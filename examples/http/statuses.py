#!/usr/bin/env python3
"""Ask smsgate's legacy HTTP gateway for the statuses of messages by their ids.

Standard library only. The answer lists `ID: STATUS` lines between `=IDS START=` and
`=IDS END=` for the ids the account knows (ENROUTE, DELIVRD, EXPIRED, UNDELIV, REJECTD);
unknown ids are left out. Prints the answer; exits 1 on an error.

    python examples/http/statuses.py 803253430 803253431
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.parse
import urllib.request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="+")
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
        path, auth = "/token/state.php", {"username": args.login, "token": args.token}
    else:
        path, auth = "/http/state.php", {"username": args.login, "password": args.password}
    query = urllib.parse.urlencode({**auth, "smscid": ";".join(args.ids)})
    with urllib.request.urlopen(f"{args.url.rstrip('/')}{path}?{query}", timeout=30) as response:
        answer = response.read().decode("utf-8")
    print(answer)
    return 0 if answer.startswith("=IDS START=") else 1


if __name__ == "__main__":
    sys.exit(main())
