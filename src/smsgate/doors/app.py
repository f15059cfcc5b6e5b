"""The ASGI app: the three HTTP doors under one base URL, plus /health and /metrics.

Plain Starlette: the SMS Club doors are the hot path, and every microsecond of framework is
paid per request. An unexpected error answers in the door's own format, never a bare 500 page.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smsgate.gateway.metrics import REGISTRY
from smsgate.gateway.service import Gateway

from . import http_gateway, json_api, xml_gateway

log = logging.getLogger(__name__)

HealthProbe = Callable[[], Awaitable[dict[str, object]]]


def build_app(gateway: Gateway, health: HealthProbe, *, max_body: int = 1_000_000) -> ASGIApp:
    async def health_endpoint(request: Request) -> Response:
        report = await health()
        status = 200 if report.get("ok", True) else 503
        return Response(orjson.dumps(report), status, media_type="application/json")

    async def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    routes: list[BaseRoute] = [
        *json_api.routes(gateway, max_body=max_body),
        *http_gateway.routes(gateway),
        *xml_gateway.routes(gateway),
        Route("/health", health_endpoint, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    return _DoorErrors(app)


class _DoorErrors:
    """Last line of defence: an exception no door handled becomes that door's error reply."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s", scope.get("path"))
            if started:
                raise
            response = _error_for(str(scope.get("path", "")))
            await response(scope, receive, send)


def _error_for(path: str) -> Response:
    if path.startswith("/xml"):
        body = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            "<response><status>ERROR</status><text>Internal server error</text></response>"
        )
        return Response(body, 200, media_type="text/xml; charset=utf-8")
    if path.startswith(("/http", "/token")):
        return Response("Internal server error", 200, media_type="text/html; charset=utf-8")
    payload = {
        "name": "Internal Server Error",
        "message": "An internal server error occurred.",
        "code": 0,
        "status": 500,
    }
    return Response(orjson.dumps(payload), 500, media_type="application/json")
