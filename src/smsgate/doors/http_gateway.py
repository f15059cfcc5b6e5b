"""The legacy plain-text HTTP gateway: `/token/…` (username + token) and `/http/…` (username +
password) for send, status and balance, with the old `httpsendsms.php`-style aliases.

Translation only: read the parameters from the raw query and body bytes (so Windows-1251 text
survives), call the gateway, and answer in the `=IDS START=<br/>…` format. No rule lives here.

Choices the public contract leaves open (ours):
- Send with some recipients refused lists only the accepted ids, in request order, and says
  nothing about the refused ones: clients read the ids between the markers and nothing else.
  A client that needs per-recipient reasons uses the JSON API. When nothing is accepted the
  answer is an error sentence naming the reasons.
- Status lists only the ids this account knows; unknown ids (and other accounts' ids,
  indistinguishable on purpose) are left out.
- Either credential works on either path: a `token` parameter is checked as a token (and its
  account's login must equal `username`), otherwise `password` is checked with `username`.
- Errors are one sentence without a final period, HTTP 200; balance errors hold no digits, `.`
  or `,` because one client tells "authenticated" by stripping everything but those.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import unquote_to_bytes

from smsgate.domain.money import format_money
from smsgate.gateway.errors import (
    Unauthorized,
)
from smsgate.gateway.facade import Gateway
from smsgate.gateway.send_request import SendItem, SendRequest
from smsgate.gateway.views import AccountRecord, MessageCallback

from .callback_options import CallbackOptionError, callback_of
from .legacy_errors import LEGACY_FIELDS, DoorError, call_gateway, refusal
from .legacy_text import InvalidBase64, decode_base64_text, decode_legacy_text, split_list
from .web import BodyTooLarge, Endpoint, Route, WebReply, WebRequest

MEDIA_TYPE = "text/html; charset=utf-8"
IDS_START = "=IDS START=<br/>"
IDS_END = "=IDS END=<br/>"
MAX_BODY = 1_000_000

# Gateway field roles → this door's parameter names.

Fields = dict[str, bytes]
Operation = Callable[[AccountRecord, Fields], Awaitable[str]]


def routes(gateway: Gateway, *, max_body: int = MAX_BODY) -> list[Route]:
    door = _HttpDoor(gateway, max_body)
    send = door.endpoint(door.send)
    status = door.endpoint(door.status)
    balance = door.endpoint(door.balance, digit_free_errors=True)
    paths: list[tuple[str, Endpoint]] = [
        ("/token/", send),
        ("/token/state.php", status),
        ("/token/getbalance.php", balance),
        ("/http/", send),
        ("/http/state.php", status),
        ("/http/getbalance.php", balance),
        ("/http/httpsendsms.php", send),
        ("/http/httpgetsmsstate.php", status),
        ("/http/httpgetbalance.php", balance),
    ]
    # Clients write `/token?…` and `/token/state.php/?…`; a redirect would lose a POST body
    # and many clients do not follow redirects, so both spellings are served directly.
    routes: list[Route] = []
    for path, endpoint in paths:
        other = path.rstrip("/") if path.endswith("/") else path + "/"
        for spelling in (path, other):
            routes.append(Route(spelling, endpoint))
    return routes


class _HttpDoor:
    def __init__(self, gateway: Gateway, max_body: int) -> None:
        self._gateway = gateway
        self._max_body = max_body

    def endpoint(self, operation: Operation, *, digit_free_errors: bool = False) -> Endpoint:
        async def serve(request: WebRequest) -> WebReply:
            account: AccountRecord | None = None
            try:
                fields = await read_fields(request, self._max_body)
                account = await self._authenticate(fields, request.client)
                request.account = account.login
                return _reply(await operation(account, fields))
            except DoorError as refused:
                exc = await refusal(self._gateway, account, refused)
                sentence = _digit_free(exc.text) if digit_free_errors else exc.text
                headers = None
                if exc.retry_after is not None:
                    headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
                return _reply(sentence, headers)

        return serve

    async def _authenticate(self, fields: Fields, client: str | None) -> AccountRecord:
        username = _text(fields, "username").strip()
        token = _text(fields, "token").strip()
        try:
            if token:
                account = await self._gateway.authenticate_token(token)
                if account.login != username:
                    raise Unauthorized()
                return account
            password = _text(fields, "password")
            if not username or not password:
                raise Unauthorized()
            return await self._gateway.authenticate_password(username, password, client)
        except Unauthorized:
            credential = "token" if token else "password"
            raise DoorError(f"Invalid username or {credential}") from None

    async def send(self, account: AccountRecord, fields: Fields) -> str:
        request = SendRequest(
            sender=_text(fields, "from").strip(),
            items=[SendItem(phone, _message_text(fields)) for phone in _list(fields, "to")],
            door="http",
            lifetime_minutes=_lifetime(fields),
            callback=_callback(fields),
        )
        outcome = await call_gateway(
            self._gateway.send(account, request), "parameter", _HTTP_FIELDS
        )
        if not outcome.accepted:
            reasons = dict.fromkeys(str(reason) for _, reason in outcome.rejected)
            raise DoorError("No message sent: " + "; ".join(reasons), spent=True)
        return send_reply([message_id for message_id, _ in outcome.accepted])

    async def status(self, account: AccountRecord, fields: Fields) -> str:
        ids = list(dict.fromkeys(_list(fields, "smscid")))
        known, _unknown = await call_gateway(self._gateway.status(account, ids), "parameter")
        return status_reply([(given, str(known[given])) for given in ids if given in known])

    async def balance(self, account: AccountRecord, fields: Fields) -> str:
        balance = await call_gateway(self._gateway.balance(account), "parameter")
        return balance_reply(format_money(balance.balance), format_money(balance.credit))


# -- replies -----------------------------------------------------------------------------------
def send_reply(ids: list[int]) -> str:
    return IDS_START + "".join(f"{message_id}<br/>" for message_id in ids) + IDS_END


def status_reply(statuses: list[tuple[str, str]]) -> str:
    return IDS_START + "".join(f"{given}: {status}<br/>" for given, status in statuses) + IDS_END


def balance_reply(balance: str, credit: str) -> str:
    return f"{balance}<br/>{credit}<br/>"


def _reply(text: str, headers: dict[str, str] | None = None) -> WebReply:
    return WebReply(text.encode("utf-8"), 200, MEDIA_TYPE, headers)


_NOT_IN_BALANCE_ERRORS = re.compile(r"[\d.,]")


def _digit_free(sentence: str) -> str:
    return " ".join(_NOT_IN_BALANCE_ERRORS.sub("", sentence).split())


# -- parameters --------------------------------------------------------------------------------
async def read_fields(request: WebRequest, max_body: int) -> Fields:
    """Query and body parameters as raw bytes, the body winning over the query.

    Generic form parsers decode as UTF-8 with replacement, which destroys Windows-1251 text,
    so the raw bytes are parsed here."""
    fields = parse_urlencoded(request.query_string)
    if request.method == "POST":
        try:
            body = await request.read(max_body)
        except BodyTooLarge:
            raise DoorError("Request is too large") from None
        content_type = request.header(b"content-type")
        if content_type.lower().startswith("multipart/"):
            fields.update(parse_multipart(content_type, body))
        else:
            # Form-encoded, or unlabelled: curl -d and many scripts send no content type.
            fields.update(parse_urlencoded(body))
    return fields


def parse_urlencoded(raw: bytes) -> Fields:
    """`a=1&b=%CF%F0` → `{"a": b"1", "b": b"\\xcf\\xf0"}`; later keys win, as in PHP.

    `;` is not a separator (it separates recipients inside `to`). PHP-style list keys
    (`to[]=…&to[]=…` or `to[0]=…`) are joined with `;` under the bare name."""
    fields: Fields = {}
    lists: dict[str, list[bytes]] = {}
    for pair in raw.split(b"&"):
        if not pair:
            continue
        key, _, value = pair.partition(b"=")
        name = unquote_to_bytes(key.replace(b"+", b" ")).decode("latin-1").strip()
        data = unquote_to_bytes(value.replace(b"+", b" "))
        _put(fields, lists, name, data)
    for name, values in lists.items():
        fields[name] = b";".join(values)
    return fields


def parse_multipart(content_type: str, body: bytes) -> Fields:
    """multipart/form-data (PHP curl with an array of fields) as raw bytes per field."""
    header = b"Content-Type: " + content_type.encode("latin-1", errors="replace") + b"\r\n\r\n"
    try:
        message = BytesParser(policy=HTTP).parsebytes(header + body)
        fields: Fields = {}
        lists: dict[str, list[bytes]] = {}
        if not message.is_multipart():
            raise DoorError("Request body could not be read")
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                _put(fields, lists, name.strip(), payload)
    except (ValueError, TypeError, LookupError, AttributeError):
        raise DoorError("Request body could not be read") from None
    for name, values in lists.items():
        fields[name] = b";".join(values)
    return fields


def _put(fields: Fields, lists: dict[str, list[bytes]], name: str, value: bytes) -> None:
    bracket = name.find("[")
    if bracket > 0 and name.endswith("]"):
        lists.setdefault(name[:bracket], []).append(value)
    elif name:
        fields[name] = value


def _text(fields: Fields, name: str) -> str:
    return decode_legacy_text(fields.get(name, b""))


def _list(fields: Fields, name: str) -> list[str]:
    return split_list(_text(fields, name))


def _message_text(fields: Fields) -> str:
    raw = fields.get("text", b"")
    if _text(fields, "text_encoding").strip().lower() != "base64":
        return decode_legacy_text(raw)
    try:
        return decode_base64_text(raw)
    except InvalidBase64 as exc:
        raise DoorError(f"{exc} (parameter text)") from None


# The callback options as this door names them, like Kannel's dlr-url and dlr-mask.
_CALLBACK_PARAMETERS = {"url": "dlr_url", "method": "dlr_method", "events": "dlr_level"}
_HTTP_FIELDS = {**LEGACY_FIELDS, "callback": "dlr_url"}


def _callback(fields: Fields) -> MessageCallback | None:
    try:
        return callback_of(
            _text(fields, "dlr_url"), _text(fields, "dlr_method"), _text(fields, "dlr_level")
        )
    except CallbackOptionError as exc:
        name = _CALLBACK_PARAMETERS[exc.option]
        raise DoorError(f"{exc.reason} (parameter {name})") from None


def _lifetime(fields: Fields) -> float | None:
    given = _text(fields, "lifetime").strip()
    if not given:
        return None
    try:
        minutes = float(given)
    except ValueError:
        minutes = math.nan
    if not math.isfinite(minutes):
        raise DoorError("Lifetime must be a number of minutes (parameter lifetime)")
    return minutes
