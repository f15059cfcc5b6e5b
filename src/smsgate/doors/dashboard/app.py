"""The dashboard as an ASGI app under /dashboard/: routing, sessions, CSRF, then the pages.

Every request gets a session (signed cookie, session.py); a POST without the session's CSRF
token is refused before its page runs, and a page that needs a login redirects to the login
form. Pages get the account fresh from the gateway, so a disabled account loses its pages at
once. The doors' app mounts this beside its routes (doors/app.py); it must not slow them.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.resources import files

from smsgate.doors.web import ClientGone, Receive, Scope, Send, WebReply, WebRequest, note_login
from smsgate.gateway.errors import RateLimited, Unauthorized
from smsgate.gateway.facade import Gateway
from smsgate.gateway.operator_desk import OperatorDesk
from smsgate.gateway.self_service import SelfService
from smsgate.gateway.views import AccountRecord

from . import (
    account_pages,
    bulk_pages,
    chart_pages,
    delivery_pages,
    inbound_pages,
    message_pages,
    operator_pages,
    send_pages,
)
from .connector_rates import ConnectorRates
from .pages import SECURITY_HEADERS, cookie, form, html, redirect, set_cookie
from .render import render
from .session import COOKIE, Session, SessionCodec

log = logging.getLogger(__name__)

PREFIX = "/dashboard"
HealthProbe = Callable[[], Awaitable[dict[str, object]]]  # the node's /health report
Routes = tuple[tuple[str, tuple[str, ...]], ...]  # (prefix, connectors) as configured
_STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(slots=True)
class Visit:
    """One request as a page sees it: who is logged in, their form, the session to keep."""

    request: WebRequest
    session: Session
    account: AccountRecord | None
    form: dict[str, str]
    gateway: Gateway
    self_service: SelfService
    operator: OperatorDesk  # for the operator pages, which check the role first
    health: HealthProbe
    rates: ConnectorRates
    routes: Routes

    def page(self, name: str, status: int = 200, /, **context: object) -> WebReply:
        return html(render(name, account=self.account, csrf=self.session.csrf, **context), status)


Page = Callable[[Visit, re.Match[str]], Awaitable[WebReply]]


@dataclass(slots=True)
class _Route:
    pattern: re.Pattern[str]
    methods: frozenset[str]
    page: Page
    login: bool  # only for a logged-in account


class Dashboard:
    def __init__(
        self,
        gateway: Gateway,
        self_service: SelfService,
        operator: OperatorDesk,
        codec: SessionCodec,
        health: HealthProbe,
        routes: Routes = (),
    ) -> None:
        self._gateway = gateway
        self._self_service = self_service
        self._operator = operator
        self._codec = codec
        self._health = health
        self._routes_configured = routes
        self._rates = ConnectorRates()
        get, post = frozenset({"GET"}), frozenset({"POST"})
        self._routes = [
            _Route(re.compile(r"/?"), get, self._home, False),
            _Route(re.compile(r"/login"), frozenset({"GET", "POST"}), self._login, False),
            _Route(re.compile(r"/logout"), post, self._logout, False),
            *(
                _Route(re.compile(pattern), methods, page, True)
                for pages in (
                    message_pages,
                    send_pages,
                    bulk_pages,
                    chart_pages,
                    inbound_pages,
                    delivery_pages,
                    account_pages,
                    operator_pages,
                )
                for pattern, methods, page in pages.routes()
            ),
        ]
        self._static = files("smsgate.doors.dashboard").joinpath("static")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = WebRequest(scope, receive)
        try:
            reply = await self._handle(request, secure=scope.get("scheme") == "https")
        except ClientGone:
            return
        except Exception:
            log.exception("dashboard error on %s", request.path)
            reply = html(render("error.html", account=None, csrf="", message="Server error"), 500)
        if request.account is not None:
            note_login(scope, request.account)  # the access log's account
        await reply.send(send, head_only=request.method == "HEAD", close=request.body_refused)

    async def _handle(self, request: WebRequest, *, secure: bool) -> WebReply:
        path = request.path.removeprefix(PREFIX)
        if path.startswith("/static/"):
            return self._static_file(path.removeprefix("/static/"))
        method = "GET" if request.method == "HEAD" else request.method
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is not None:
                break
        else:
            return html(render("error.html", account=None, csrf="", message="Not found"), 404)
        if method not in route.methods:
            return WebReply(b"Method Not Allowed", 405, "text/plain", {"Allow": "GET, POST"})

        given = cookie(request, COOKIE)
        session = self._codec.decode(given) if given else None
        fresh = session is None
        if session is None:
            session = self._codec.new()
        account = None
        if session.account_id is not None:
            account = await self._gateway.account(session.account_id)
            if account is None or not account.active:
                session, fresh, account = self._codec.new(), True, None
            if account is not None:
                request.account = account.login
        posted: dict[str, str] = {}
        if method == "POST":
            posted = await form(request)
            if not hmac.compare_digest(posted.get("csrf", ""), session.csrf):
                reply = html(
                    render(
                        "error.html",
                        account=account,
                        csrf=session.csrf,
                        message="This form has expired: reload the page and try again.",
                    ),
                    403,
                )
                return self._keep(reply, session, fresh, secure)
        if route.login and account is None:
            return self._keep(redirect(f"{PREFIX}/login"), session, fresh, secure)
        visit = Visit(
            request,
            session,
            account,
            posted,
            self._gateway,
            self._self_service,
            self._operator,
            self._health,
            self._rates,
            self._routes_configured,
        )
        try:
            reply = await route.page(visit, match)
        except RateLimited as exc:  # a page's reads spend the account's request budget too
            message = f"Too many requests: try again in {exc.retry_after:.1f} s."
            reply = visit.page("error.html", 429, message=message)
        if visit.session is not session:  # logged in or out: a new session, a new token
            session, fresh = visit.session, True
        return self._keep(reply, session, fresh, secure)

    def _keep(self, reply: WebReply, session: Session, fresh: bool, secure: bool) -> WebReply:
        if fresh:
            value = self._codec.encode(session)
            headers = reply.headers if reply.headers is not None else {}
            headers["Set-Cookie"] = set_cookie(
                COOKIE, value, secure=secure, max_age=int(self._codec.max_age)
            )
            reply.headers = headers
        return reply

    def _static_file(self, name: str) -> WebReply:
        kind = next((t for ext, t in _STATIC_TYPES.items() if name.endswith(ext)), None)
        if kind is None or "/" in name or name.startswith("."):
            return WebReply(b"Not Found", 404, "text/plain")
        try:
            body = self._static.joinpath(name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return WebReply(b"Not Found", 404, "text/plain")
        headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
        return WebReply(body, 200, kind, headers)

    async def _home(self, visit: Visit, match: re.Match[str]) -> WebReply:
        return redirect(f"{PREFIX}/messages" if visit.account else f"{PREFIX}/login")

    async def _login(self, visit: Visit, match: re.Match[str]) -> WebReply:
        if visit.request.method != "POST":
            if visit.account is not None:
                return redirect(f"{PREFIX}/messages")
            return visit.page("login.html", error=None, login="")
        login = visit.form.get("login", "").strip()
        try:
            account = await visit.gateway.authenticate_password(
                login, visit.form.get("password", ""), visit.request.client
            )
        except Unauthorized:
            return visit.page("login.html", 401, error="Wrong login or password.", login=login)
        visit.session = self._codec.new(account.id)
        return redirect(f"{PREFIX}/messages")

    async def _logout(self, visit: Visit, match: re.Match[str]) -> WebReply:
        visit.session = self._codec.new()
        return redirect(f"{PREFIX}/login")
