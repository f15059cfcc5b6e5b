"""The metrics admin listener: GET /metrics on an address of its own ([metrics] host and port),
never on the public HTTP port, behind a bearer token when [metrics] token is set.

It serves what `collect()` returns and decides nothing about it: one node's registry, or the
workers supervisor's merge of its workers (metrics_merge.py). A thread with the standard
library's HTTP server, because a scrape every few seconds needs no event loop, and the
supervisor has none.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST

log = logging.getLogger(__name__)


class MetricsListener:
    def __init__(self, host: str, port: int, token: str, collect: Callable[[], bytes]) -> None:
        self._collect = collect
        expected = f"Bearer {token}".encode() if token else None
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/metrics":
                    self._answer(404, b"Not Found\n", "text/plain; charset=utf-8")
                    return
                given = self.headers.get("Authorization", "").encode("latin-1", "replace")
                if expected is not None and not hmac.compare_digest(given, expected):
                    self._answer(401, b"Unauthorized\n", "text/plain; charset=utf-8")
                    return
                try:
                    body = listener._collect()
                except Exception:
                    log.exception("collecting metrics failed")
                    self._answer(500, b"collecting metrics failed\n", "text/plain")
                    return
                self._answer(200, body, CONTENT_TYPE_LATEST)

            def _answer(self, status: int, body: bytes, media_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                if status == 401:
                    self.send_header("WWW-Authenticate", "Bearer")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # scrapes are not news; errors are logged above

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="smsgate-metrics", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
