"""The XML gateway: `/xml/` and `/xml/individual.php` (`request_sendsms`) and `/xml/state.php`
(`request_getstate`), raw XML in, `<response>…</response>` out.

Translation only: parse untrusted XML safely (defusedxml, no DTD, no entities, no external
references, a body size limit), call the gateway, answer in the contract's bytes. No rule lives
here.

Choices the public contract leaves open (ours):
- Replies are `text/xml; charset=utf-8`, HTTP 200 whatever happened, like the hosted service.
- `to` and `text` pair up: one `text` goes to every recipient of every `to`; as many `text`s
  as `to`s pair in document order (so `/xml/` and `/xml/individual.php` share one handler).
- Send with some recipients refused lists only the accepted ids, in order, with an empty
  `<text>`; when nothing is accepted the answer is an ERROR naming the reasons.
- State lists only the ids this account knows; unknown ids are left out.
- A `token` element authenticates instead of `password` (its account's login must equal
  `username`).
- A body that is not UTF-8 and declares no other encoding is read as Windows-1251, the rule of
  the HTTP gateway.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from smsgate.gateway.errors import (
    Unauthorized,
)
from smsgate.gateway.facade import Gateway
from smsgate.gateway.send_request import SendItem, SendRequest
from smsgate.gateway.views import AccountRecord, MessageCallback

from .callback_options import CallbackOptionError, callback_of
from .legacy_errors import LEGACY_FIELDS, DoorError, call_gateway, refusal
from .legacy_text import decode_legacy_text, split_list
from .web import BodyTooLarge, Endpoint, Route, WebReply, WebRequest

MEDIA_TYPE = "text/xml; charset=utf-8"
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
MAX_BODY = 1_000_000

SEND_ROOT = "request_sendsms"
STATE_ROOT = "request_getstate"

# Gateway field roles → this door's element names.

Operation = Callable[[AccountRecord, "Document"], Awaitable[str]]


class Document:
    """The request's elements by local name (namespaces and case ignored), in document order.

    Every element below the root counts, so `<message><to/><text/></message>` wrappers read
    the same as flat children."""

    __slots__ = ("_values", "root")

    def __init__(self, root: Element) -> None:
        self.root = _local_name(root.tag)
        self._values: dict[str, list[str]] = {}
        for element in root.iter():
            if element is root:
                continue
            # Own text and the text between its children, not itertext(): that walks every
            # subtree again and is quadratic on a deeply nested hostile document.
            parts = [element.text or "", *(child.tail or "" for child in element)]
            value = "".join(parts).strip()
            self._values.setdefault(_local_name(element.tag), []).append(value)

    def first(self, name: str) -> str:
        values = self._values.get(name)
        return values[0] if values else ""

    def all(self, name: str) -> list[str]:
        return self._values.get(name, [])


def routes(gateway: Gateway, *, max_body: int = MAX_BODY) -> list[Route]:
    door = _XmlDoor(gateway, max_body)
    send = door.endpoint(SEND_ROOT, door.send)
    state = door.endpoint(STATE_ROOT, door.state)
    paths: list[tuple[str, Endpoint]] = [
        ("/xml/", send),
        ("/xml", send),
        ("/xml/individual.php", send),
        ("/xml/individual.php/", send),
        ("/xml/state.php", state),
        ("/xml/state.php/", state),
    ]
    # GET is answered too, so a browser or a misconfigured client gets an XML error, not a 405.
    return [Route(path, endpoint) for path, endpoint in paths]


class _XmlDoor:
    def __init__(self, gateway: Gateway, max_body: int) -> None:
        self._gateway = gateway
        self._max_body = max_body

    def endpoint(self, root: str, operation: Operation) -> Endpoint:
        async def serve(request: WebRequest) -> WebReply:
            account: AccountRecord | None = None
            try:
                document = parse_request(await self._read_body(request))
                if document.root != root:
                    raise DoorError(f"Unexpected root element <{document.root}>: expected <{root}>")
                account = await self._authenticate(document, request.client)
                request.account = account.login
                return _reply(await operation(account, document))
            except DoorError as refused:
                exc = await refusal(self._gateway, account, refused)
                headers = None
                if exc.retry_after is not None:
                    headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
                return _reply(error_reply(exc.text), headers)

        return serve

    async def _read_body(self, request: WebRequest) -> bytes:
        try:
            return await request.read(self._max_body)
        except BodyTooLarge:
            raise DoorError("Request is too large") from None

    async def _authenticate(self, document: Document, client: str | None) -> AccountRecord:
        username = document.first("username")
        token = document.first("token")
        try:
            if token:
                account = await self._gateway.authenticate_token(token)
                if account.login != username:
                    raise Unauthorized()
                return account
            password = document.first("password")
            if not username or not password:
                raise Unauthorized()
            return await self._gateway.authenticate_password(username, password, client)
        except Unauthorized:
            credential = "token" if token else "password"
            raise DoorError(f"Invalid username or {credential}") from None

    async def send(self, account: AccountRecord, document: Document) -> str:
        request = SendRequest(
            sender=document.first("from"),
            items=_items(document),
            door="xml",
            lifetime_minutes=_lifetime(document.first("lifetime")),
            callback=_callback(document),
        )
        outcome = await call_gateway(self._gateway.send(account, request), "element", _XML_FIELDS)
        if not outcome.accepted:
            reasons = dict.fromkeys(str(reason) for _, reason in outcome.rejected)
            raise DoorError("No message sent: " + "; ".join(reasons), spent=True)
        return send_reply([message_id for message_id, _ in outcome.accepted])

    async def state(self, account: AccountRecord, document: Document) -> str:
        given = [i for value in document.all("smscid") for i in split_list(value)]
        ids = list(dict.fromkeys(given))
        known, _unknown = await call_gateway(self._gateway.status(account, ids), "element")
        return state_reply([(i, str(known[i])) for i in ids if i in known])


def _items(document: Document) -> list[SendItem]:
    recipients = [split_list(value) for value in document.all("to")]
    texts = document.all("text") or [""]
    if len(texts) == 1:
        return [SendItem(phone, texts[0]) for phones in recipients for phone in phones]
    if len(texts) != len(recipients):
        raise DoorError("Every <to> needs its own <text>, or one <text> for all")
    return [
        SendItem(phone, text)
        for phones, text in zip(recipients, texts, strict=True)
        for phone in phones
    ]


# -- parsing -----------------------------------------------------------------------------------
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def parse_request(body: bytes) -> Document:
    """Untrusted bytes → a Document, or DoorError; never an entity expanded or a file read."""
    if not body.strip():
        raise DoorError("Request body is empty: expected XML")
    try:
        root = SafeET.fromstring(
            _as_parsable(body), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException:
        raise DoorError("DTDs and entities are not allowed") from None
    except (ParseError, ValueError, LookupError):
        raise DoorError("Request body is not well-formed XML") from None
    return Document(root)


def _as_parsable(body: bytes) -> bytes:
    # Leading whitespace before the declaration is an XML error that clients commit often.
    data = body.lstrip()
    if data.startswith(_UTF16_BOMS):
        return data
    declared = _DECLARED_ENCODING.match(data)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return data  # expat honours the declared encoding itself
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        # Declared UTF-8 (or nothing) but written in Windows-1251: the HTTP gateway's rule.
        return decode_legacy_text(data).encode("utf-8")
    return data


def _local_name(tag: object) -> str:
    name = tag if isinstance(tag, str) else ""
    return name.rpartition("}")[2].lower()


_CALLBACK_ELEMENTS = {
    "url": "callback_url",
    "method": "callback_method",
    "events": "callback_events",
}
_XML_FIELDS = {**LEGACY_FIELDS, "callback": "callback_url"}


def _callback(document: Document) -> MessageCallback | None:
    try:
        return callback_of(
            document.first("callback_url"),
            document.first("callback_method"),
            document.first("callback_events"),
        )
    except CallbackOptionError as exc:
        name = _CALLBACK_ELEMENTS[exc.option]
        raise DoorError(f"{exc.reason} (element {name})") from None


def _lifetime(given: str) -> float | None:
    if not given:
        return None
    try:
        minutes = float(given)
    except ValueError:
        minutes = math.nan
    if not math.isfinite(minutes):
        raise DoorError("Lifetime must be a number of minutes (element lifetime)")
    return minutes


# -- replies -----------------------------------------------------------------------------------
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value: str) -> str:
    return escape(_NOT_XML_CHARS.sub("", value))


def send_reply(ids: list[int]) -> str:
    mess = "".join(f"<mess>{message_id}</mess>" for message_id in ids)
    return f"{DECLARATION}<response><status>OK</status><text></text><ids>{mess}</ids></response>"


def state_reply(states: list[tuple[str, str]]) -> str:
    entries = "".join(
        f"<entry><smscid>{_xml_text(given)}</smscid><state>{state}</state></entry>"
        for given, state in states
    )
    return (
        f"{DECLARATION}<response><status>OK</status><text></text>"
        f"<entries>{entries}</entries></response>"
    )


def error_reply(description: str) -> str:
    return (
        f"{DECLARATION}<response><status>ERROR</status>"
        f"<text>{_xml_text(description)}</text></response>"
    )


def _reply(body: str, headers: dict[str, str] | None = None) -> WebReply:
    return WebReply(body.encode("utf-8"), 200, MEDIA_TYPE, headers)
