#!/usr/bin/env python3
"""Ask smsgate's XML gateway for message statuses (`POST /xml/state.php`, `request_getstate`).

Standard library only. The answer holds one `<entry>` (smscid, state) per id the account knows;
unknown ids are left out. Prints the XML answer; exits 1 when its status is ERROR.

    python examples/xml/statuses.py 803253430 803253431
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.request
from xml.sax.saxutils import escape


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
        secret = f"<token>{escape(args.token)}</token>"
    else:
        secret = f"<password>{escape(args.password)}</password>"
    body = (
        "<?xml version='1.0' encoding='utf-8'?><request_getstate>"
        f"<username>{escape(args.login)}</username>{secret}"
        f"<smscid>{escape(';'.join(args.ids))}</smscid></request_getstate>"
    )
    request = urllib.request.Request(
        f"{args.url.rstrip('/')}/xml/state.php",
        data=body.encode("utf-8"),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = response.read().decode("utf-8")
    print(answer)
    return 0 if "<status>OK</status>" in answer else 1


if __name__ == "__main__":
    sys.exit(main())
