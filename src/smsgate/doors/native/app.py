"""The native API's ASGI app: FastAPI, mounted by doors/app.py under /api/.

FastAPI because the OpenAPI 3.1 document must come from the code, and pydantic models give both
the validation and the schema in one place; it costs tens of microseconds per request, which
this API can pay and the SMS Club doors (bare ASGI, web.py) cannot, so they never pass here.
Every error is an RFC 9457 problem, never a framework default or a bare 500 page.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smsgate.gateway.errors import GatewayError
from smsgate.gateway.facade import Gateway
from smsgate.gateway.store_trouble import RETRY_AFTER, TROUBLE_TYPES, is_store_trouble
from smsgate.log_limit import LimitedLog

from . import account, docs_page, messages, money, replay, webhooks
from .errors import problem_for
from .limits import ApiLimits
from .problems import FieldError, ProblemError, problem_response

log = logging.getLogger(__name__)

PREFIX = "/api/v1"

_TITLES = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
}


def build_native_app(gateway: Gateway, limits: ApiLimits | None = None) -> FastAPI:
    app = FastAPI(
        title="smsgate API",
        version="1",
        summary="Send SMS, price them, and follow them: smsgate's own API.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # docs_page.py's page, and Swagger UI under /docs/try
        redoc_url=None,
    )
    app.state.gateway = gateway
    trouble = LimitedLog(log)
    app.state.limits = limits or ApiLimits()
    app.include_router(messages.router, prefix=PREFIX)
    app.include_router(account.router, prefix=PREFIX)
    app.include_router(money.router, prefix=PREFIX)
    app.include_router(webhooks.router, prefix=PREFIX)
    app.include_router(replay.router, prefix=PREFIX)
    page: list[str] = []  # rendered once, at the first visit: the document does not change

    @app.get(f"{PREFIX}/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if not page:
            page.append(docs_page.render(app.openapi()))
        return HTMLResponse(page[0])

    @app.get(f"{PREFIX}/docs/try", include_in_schema=False)
    async def try_requests() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=f"{PREFIX}/openapi.json", title=app.title)

    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return _with_budget(request, problem_response(exc))

    @app.exception_handler(GatewayError)
    async def on_gateway(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GatewayError)
        return _with_budget(request, problem_response(problem_for(exc)))

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        unreadable = any(e.get("type") == "json_invalid" for e in exc.errors())
        if unreadable:
            errors = [FieldError(field="body", detail="The body is not valid JSON.")]
        else:
            errors = [_field_error(e) for e in exc.errors()]
        return problem_response(
            ProblemError(
                400 if unreadable else 422,
                "unreadable-body" if unreadable else "invalid-field",
                "Bad Request" if unreadable else "Invalid field",
                errors[0].detail if errors else None,
                field=errors[0].field if errors else None,
                errors=errors,
            )
        )

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        title = _TITLES.get(exc.status_code, "Error")
        slug = title.lower().replace(" ", "-")
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(
            ProblemError(exc.status_code, slug, title, detail, headers=dict(exc.headers or {}))
        )

    async def on_store_trouble(request: Request, exc: Exception) -> Response:
        if not is_store_trouble(exc):
            raise exc  # a bug, not trouble: on_error's 500, with its traceback
        # The database is not answering (full disk, lost connection): the client should try
        # again shortly, as the other doors tell theirs with their own 503; one log line.
        trouble.warning(
            "store",
            "the database is not answering on %s: %s: %s",
            request.url.path,
            type(exc).__name__,
            str(exc).strip().split("\n", 1)[0],
            extra={"event": "store_trouble"},
        )
        unavailable = ProblemError(
            503,
            "unavailable",
            "Service Unavailable",
            "The database is not answering; a send may not have been stored. Send it again "
            "shortly, with the same Idempotency-Key.",
            retry_after=RETRY_AFTER,
            headers={"Retry-After": str(RETRY_AFTER)},
        )
        return _with_budget(request, problem_response(unavailable))

    for kind in TROUBLE_TYPES:
        if issubclass(kind, Exception):
            app.add_exception_handler(kind, on_store_trouble)

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path, exc_info=exc)
        return problem_response(
            ProblemError(500, "internal", "Internal Server Error", "An internal error occurred.")
        )

    return app


def _with_budget(request: Request, response: Response) -> Response:
    """An error after the request spent its token (auth.caller) carries the RateLimit-*
    headers a success would have; headers of the error's own (a 429's) stay."""
    for name, value in getattr(request.state, "budget", {}).items():
        response.headers.setdefault(name, value)
    return response


def _field_error(error: dict[str, object]) -> FieldError:
    """pydantic's location as this API names fields: `recipients.2.to`, a header by name."""
    raw = error.get("loc", ())
    loc = [str(part) for part in raw] if isinstance(raw, list | tuple) else []
    if loc and loc[0] in ("body", "query", "path", "header"):
        where, loc = loc[0], loc[1:]
    else:
        where = ""
    field = ".".join(loc) if loc else (where or "request")
    message = str(error.get("msg", "invalid"))
    return FieldError(field=field, detail=message)
