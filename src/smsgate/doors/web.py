"""The doors' view of HTTP: a request they can read and a reply they return, nothing more.

A bare ASGI layer instead of a framework: the SMS Club doors are the hot path, and every
microsecond of routing, middleware and Request/Response objects is paid per message. The doors
need only the method, the path, the raw query, two or three headers and the body bytes (raw,
because the legacy doors must see Windows-1251 text before anything decodes it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from smsgate.immutable import record

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def note_login(scope: Scope, login: str) -> None:
    """An app mounted under the doors' router (the native API, the dashboard) says who the
    request is from, for the access log: kept in the scope's `state`, Starlette's request.state."""
    scope.setdefault("state", {})["login"] = login


def noted_login(scope: Scope) -> str | None:
    state = scope.get("state")
    login = state.get("login") if isinstance(state, dict) else None
    return login if isinstance(login, str) else None


class BodyTooLarge(Exception):
    """The body is longer than the door accepts; the door answers in its own format."""


class ClientGone(Exception):
    """The client went away before its body was whole: there is no request to answer."""


class WebRequest:
    __slots__ = (
        "_body",
        "_headers",
        "_receive",
        "account",
        "body_refused",
        "client",
        "method",
        "path",
        "query_string",
    )

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query_string: bytes = scope.get("query_string", b"")
        self._headers: list[tuple[bytes, bytes]] = scope["headers"]
        # The peer's IP as the server saw it (uvicorn runs with proxy_headers off, so a
        # client cannot claim another address in X-Forwarded-For); None when unknown.
        client = scope.get("client")
        self.client: str | None = client[0] if client else None
        self._receive = receive
        self._body: bytes | None = None
        self.account: str | None = None  # the login once a door has authenticated it (access log)
        # The body was refused unread: the connection closes after the reply, or the client
        # would go on sending it (and reading it all would be waiting on a lie).
        self.body_refused = False

    def header(self, name: bytes) -> str:
        """The first value of a header (`name` in lower case, as ASGI gives them), or ""."""
        for key, value in self._headers:
            if key == name:
                return value.decode("latin-1")
        return ""

    async def read(self, limit: int) -> bytes:
        """The whole body; BodyTooLarge at once when its declared length passes `limit` bytes,
        or once what arrived passes it (the rest is not read)."""
        if self._body is not None:
            return self._body
        declared = self.header(b"content-length")
        # 19 digits and more are over any limit (and int() of a hostile length is not free).
        if declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
            self.body_refused = True
            raise BodyTooLarge()
        message = await self._receive()
        body: bytes = message.get("body", b"")
        if message.get("more_body", False):
            chunks = bytearray(body)
            while message.get("more_body", False):
                if len(chunks) > limit:
                    self.body_refused = True
                    raise BodyTooLarge()
                message = await self._receive()
                if message["type"] == "http.disconnect":  # never act on half a body
                    raise ClientGone()
                chunks += message.get("body", b"")
            body = bytes(chunks)
        if len(body) > limit:
            raise BodyTooLarge()
        self._body = body
        return body


# media type -> its ready content-type header, encoded once instead of once per reply.
_CONTENT_TYPES: dict[str, tuple[bytes, bytes]] = {}


@dataclass(slots=True)
class WebReply:
    body: bytes
    status: int = 200
    media_type: str = "application/json"
    headers: dict[str, str] | None = None

    async def send(self, send: Send, *, head_only: bool = False, close: bool = False) -> None:
        content_type = _CONTENT_TYPES.get(self.media_type)
        if content_type is None:
            content_type = (b"content-type", self.media_type.encode("latin-1"))
            if len(_CONTENT_TYPES) < 64:  # the doors use a handful; a stray one is not kept
                _CONTENT_TYPES[self.media_type] = content_type
        headers = [content_type, (b"content-length", b"%d" % len(self.body))]
        if self.headers:
            headers.extend(
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()
            )
        if close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head_only else self.body})


Endpoint = Callable[[WebRequest], Awaitable[WebReply]]


@record
class Route:
    path: str
    endpoint: Endpoint
    methods: frozenset[str] = frozenset({"GET", "POST"})


def plain(text: str, status: int, headers: dict[str, str] | None = None) -> WebReply:
    return WebReply(text.encode("utf-8"), status, "text/plain; charset=utf-8", headers)
