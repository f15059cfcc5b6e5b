"""The ASGI app: the three HTTP doors under one base URL, plus /health, /health/live and
/health/ready (/metrics is on the admin listener, metrics_listener.py, not on this port),
mounted apps (the dashboard) under their own path prefixes, and the native API (doors/native,
a FastAPI app) under /api/.

A dictionary from path to endpoint, no framework (see web.py for why). An unexpected error
answers in the door's own format, never a bare 500 page, and the request latency of every known
path goes to the `smsgate_request_seconds` histogram. With the access log on, every request is
one line on the `smsgate.access` logger: the path never with its query (the HTTP gateway
carries token and password there). Mounts and the /api/ prefix are asked only for a path no
door owns, so they cost the doors nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import orjson

from smsgate.gateway.facade import Gateway
from smsgate.gateway.metrics import REQUEST_LATENCY
from smsgate.gateway.store_trouble import RETRY_AFTER, is_store_trouble
from smsgate.immutable import record
from smsgate.log_limit import LimitedLog

from . import http_gateway, json_api, xml_gateway
from .native.app import build_native_app
from .native.body_limit import BodyLimit
from .native.limits import ApiLimits
from .web import (
    ClientGone,
    Message,
    Receive,
    Route,
    Scope,
    Send,
    WebReply,
    WebRequest,
    noted_login,
    plain,
)

log = logging.getLogger(__name__)
access_log = logging.getLogger("smsgate.access")

DASHBOARD_PREFIX = "/dashboard/"

HealthProbe = Callable[[], Awaitable[dict[str, object]]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@record
class Mount:
    """An ASGI app that serves every path under `prefix` (which ends with "/"), and the path
    without its final slash."""

    prefix: str
    app: AsgiApp

    def owns(self, path: str) -> bool:
        return path.startswith(self.prefix) or path == self.prefix[:-1]


Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


class DoorsApp:
    def __init__(
        self,
        routes: list[Route],
        mounts: Sequence[Mount] = (),
        *,
        access: bool = False,
        api: Asgi | None = None,
    ) -> None:
        self._routes = {route.path: route for route in routes}
        self._latency = {route.path: REQUEST_LATENCY.labels(route.path) for route in routes}
        self._mounts = tuple(mounts)
        self._access = access
        self._trouble_log = LimitedLog(log)
        self._api = api
        self._api_latency = REQUEST_LATENCY.labels("/api/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":  # nothing to start: the node owns the lifecycle
                await _lifespan(receive, send)
            return
        started = time.perf_counter()
        request = WebRequest(scope, receive)
        route = self._routes.get(request.path)
        if route is None and self._api is not None and request.path.startswith("/api/"):
            await self._delegate(self._api, request, scope, receive, send, started)
            self._api_latency.observe(time.perf_counter() - started)
            return
        head_only = request.method == "HEAD"
        if route is None:
            for mount in self._mounts:
                if mount.owns(request.path):
                    await self._delegate(mount.app, request, scope, receive, send, started)
                    return
            reply = _not_found(request.path)
        elif request.method not in route.methods and not (head_only and "GET" in route.methods):
            reply = _not_allowed(request.path, route.methods)
        else:
            try:
                reply = await route.endpoint(request)
            except ClientGone:
                return
            except Exception as error:
                if is_store_trouble(error):
                    self._trouble_log.warning(
                        "store",
                        "the database is not answering on %s: %s: %s",
                        request.path,
                        type(error).__name__,
                        str(error).strip().split("\n", 1)[0],
                        extra={"event": "store_trouble"},
                    )
                    reply = _unavailable_for(request.path)
                else:
                    log.exception("unhandled error on %s", request.path)
                    reply = _error_for(request.path)
        await reply.send(send, head_only=head_only, close=request.body_refused)
        elapsed = time.perf_counter() - started
        if route is not None:
            self._latency[route.path].observe(elapsed)
        if self._access and access_log.isEnabledFor(logging.INFO):
            _log_access(request, reply.status, elapsed)

    async def _delegate(
        self,
        app: Asgi,
        request: WebRequest,
        scope: Scope,
        receive: Receive,
        send: Send,
        started: float,
    ) -> None:
        """A request for an app of its own (the native API, the dashboard); its access line
        takes the status from the answer and the login the app noted (web.note_login)."""
        if not self._access:
            await app(scope, receive, send)
            return
        status = 0

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await app(scope, receive, noting)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                request.account = noted_login(scope)
                _log_access(request, status, time.perf_counter() - started)


def _log_access(request: WebRequest, status: int, elapsed: float) -> None:
    # request.path is the ASGI path: the query string (secrets included) is not part of it.
    ms = round(elapsed * 1000, 2)
    access_log.info(
        "%s %s %d %.2f ms",
        request.method,
        request.path,
        status,
        ms,
        extra={
            "event": "http_request",
            "method": request.method,
            "path": request.path,
            "status": status,
            "ms": ms,
            "account": request.account or "-",
            "client": request.client or "-",
        },
    )


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def build_app(
    gateway: Gateway,
    health: HealthProbe,
    *,
    ready: HealthProbe | None = None,
    max_body: int = 1_000_000,
    access: bool = False,
    mounts: Sequence[Mount] = (),
    limits: ApiLimits | None = None,
) -> DoorsApp:
    """`health` is /health (the node's state, 200 unless it says "ok": false); `ready` is
    /health/ready (200 when its "ready" is true, else 503 with the reasons); /health/live
    answers 200 while the process serves at all. `mounts` serve the paths no door owns.
    `limits`: the per-account request budget of every /api/v1 path."""
    limits = limits or ApiLimits()

    async def health_endpoint(request: WebRequest) -> WebReply:
        report = await health()
        return WebReply(orjson.dumps(report), 200 if report.get("ok", True) else 503)

    async def live_endpoint(request: WebRequest) -> WebReply:
        return WebReply(b'{"live":true}')

    async def ready_endpoint(request: WebRequest) -> WebReply:
        report = await (ready or health)()
        is_ready = report.get("ready", report.get("ok", True))
        return WebReply(orjson.dumps(report), 200 if is_ready else 503)

    async def home(request: WebRequest) -> WebReply:
        if any(mount.prefix == DASHBOARD_PREFIX for mount in mounts):
            return WebReply(b"", 303, "text/plain", {"Location": DASHBOARD_PREFIX})
        return plain("Not Found", 404)

    get = frozenset({"GET"})
    return DoorsApp(
        [
            *json_api.routes(gateway, max_body=max_body),
            *http_gateway.routes(gateway, max_body=max_body),
            *xml_gateway.routes(gateway, max_body=max_body),
            Route("/health", health_endpoint, get),
            Route("/health/live", live_endpoint, get),
            Route("/health/ready", ready_endpoint, get),
            Route("/", home, get),
        ],
        mounts,
        access=access,
        api=BodyLimit(build_native_app(gateway, limits), max_body),
    )


def _is_json_door(path: str) -> bool:
    return path.startswith(("/sms/", "/v2/")) or path == "/sms"


def _not_found(path: str) -> WebReply:
    """404 in the shape of the door whose paths `path` looks like."""
    if _is_json_door(path):
        return json_api.top_level_error("Not Found", "Page not found.", 404)
    if path.startswith("/xml"):
        body = xml_gateway.error_reply("Unknown path").encode("utf-8")
        return WebReply(body, 404, xml_gateway.MEDIA_TYPE)
    if path.startswith(("/http", "/token")):
        return WebReply(b"Unknown path", 404, http_gateway.MEDIA_TYPE)
    return plain("Not Found", 404)


def _not_allowed(path: str, methods: frozenset[str]) -> WebReply:
    """405 with its Allow header, in the shape of the door `path` belongs to."""
    allow = ", ".join(sorted(methods))
    headers = {"Allow": allow}
    if _is_json_door(path):
        message = f"Method Not Allowed. This URL can only handle: {allow}."
        return json_api.top_level_error("Method Not Allowed", message, 405, **headers)
    if path.startswith("/xml"):
        body = xml_gateway.error_reply(f"Method not allowed: use {allow}").encode("utf-8")
        return WebReply(body, 405, xml_gateway.MEDIA_TYPE, headers)
    if path.startswith(("/http", "/token")):
        body = f"Method not allowed: use {allow}".encode()
        return WebReply(body, 405, http_gateway.MEDIA_TYPE, headers)
    return plain("Method Not Allowed", 405, headers)


_UNAVAILABLE = (
    "The database is not answering; this request may not have been stored. Send it again "
    "shortly: a repeat within the duplicate window is answered with the first message's id."
)


def _unavailable_for(path: str) -> WebReply:
    """503 with Retry-After, in the shape of the door `path` belongs to: the database is in
    trouble for now, and the client should send again."""
    headers = {"Retry-After": str(RETRY_AFTER)}
    if path.startswith("/xml"):
        body = xml_gateway.error_reply(_UNAVAILABLE).encode("utf-8")
        return WebReply(body, 503, xml_gateway.MEDIA_TYPE, headers)
    if path.startswith(("/http", "/token")):
        return WebReply(_UNAVAILABLE.encode(), 503, http_gateway.MEDIA_TYPE, headers)
    return json_api.top_level_error("Service Unavailable", _UNAVAILABLE, 503, **headers)


def _error_for(path: str) -> WebReply:
    """The door's own error shape for an error no endpoint handled."""
    if path.startswith("/xml"):
        body = xml_gateway.error_reply("Internal server error").encode("utf-8")
        return WebReply(body, 200, xml_gateway.MEDIA_TYPE)
    if path.startswith(("/http", "/token")):
        return WebReply(b"Internal server error", 200, http_gateway.MEDIA_TYPE)
    return json_api.top_level_error(
        "Internal Server Error", "An internal server error occurred.", 500
    )
