#!/usr/bin/env python3
"""Receive smsgate's webhooks, verify their signatures and print each event as one JSON line.

Signed webhooks (`POST /webhook`) are checked with the `standardwebhooks` package
(`pip install standardwebhooks`) against the endpoint's secret; a bad or missing signature is
answered 401 and reported on stderr. Per-message callbacks (`dlr_url`/`callback_url`, GET or
POST form to `/callback`) are not signed: their fields are printed as they came, and they need
no secret.

    SMSGATE_WEBHOOK_SECRET=whsec_... python examples/webhooks/receiver.py --port 8099
    python examples/webhooks/receiver.py --port 8099     # per-message callbacks only
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

MAX_BODY = 1_000_000


class Receiver(BaseHTTPRequestHandler):
    webhook: Webhook | None  # None: no secret given, so no webhook can be verified
    remaining: int | None  # events still to print before exiting (None: run until stopped)
    done: threading.Event
    lock = threading.Lock()

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            self.answer(413)
            return
        body = self.rfile.read(length)
        path = urlsplit(self.path).path
        if path == "/webhook":
            if self.webhook is None:
                print(
                    f"refused webhook {self.headers.get('webhook-id')}: no signing secret "
                    "given (--secret or SMSGATE_WEBHOOK_SECRET)",
                    file=sys.stderr,
                )
                self.answer(401)
                return
            try:
                event = self.webhook.verify(body, dict(self.headers.items()))
            except WebhookVerificationError as error:
                print(f"refused webhook {self.headers.get('webhook-id')}: {error}", file=sys.stderr)
                self.answer(401)
                return
            self.emit({"webhook_id": self.headers["webhook-id"], "event": event})
        elif path == "/callback":
            query = parse_qsl(urlsplit(self.path).query, keep_blank_values=True)
            form = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            self.emit({"callback": dict(query + form)})
        else:
            self.answer(404)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/callback":
            self.answer(404)
            return
        self.emit({"callback": dict(parse_qsl(url.query, keep_blank_values=True))})

    def emit(self, record: dict[str, object]) -> None:
        # 2xx at once: smsgate counts anything else as a failure and sends the event again.
        self.answer(204)
        with self.lock:
            print(json.dumps(record, ensure_ascii=False), flush=True)
            # The count lives on the class: each request gets a handler instance of its own.
            if Receiver.remaining is not None:
                Receiver.remaining -= 1
                if Receiver.remaining <= 0:
                    Receiver.done.set()

    def answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per event on stdout is the output; no access log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument(
        "--secret",
        default=os.environ.get("SMSGATE_WEBHOOK_SECRET", ""),
        help="the endpoint's signing secret (whsec_...); give it as --secret=SECRET. "
        "Without one, only per-message callbacks are taken",
    )
    parser.add_argument("--count", type=int, help="exit after printing this many events")
    args = parser.parse_args()
    Receiver.webhook = Webhook(args.secret) if args.secret else None
    Receiver.remaining = args.count
    Receiver.done = threading.Event()
    server = ThreadingHTTPServer((args.host, args.port), Receiver)
    print(f"listening on http://{args.host}:{server.server_port}/", file=sys.stderr, flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        Receiver.done.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
