"""The SMS Club-compatible JSON API: `/sms/send`, `/v2/sms/send`, `/sms/status`,
`/sms/originator`, `/sms/balance`.

Translation only: parse the body leniently (JSON, `[]`, empty, or a PHP-style form), call the
gateway, and answer in the contract's envelope and error shapes byte for byte. No rule lives here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from smsgate.domain.money import format_money
from smsgate.gateway.errors import (
    AllDuplicates,
    InvalidRequest,
    RateLimited,
    Unauthorized,
)
from smsgate.gateway.facade import Gateway
from smsgate.gateway.idempotency import Answer, KeyInFlight, KeyReused
from smsgate.gateway.send_request import SendItem, SendRequest
from smsgate.gateway.views import AccountRecord, MessageCallback

from .callback_options import CallbackOptionError, callback_of
from .form_body import parse_form
from .web import BodyTooLarge, Endpoint, Route, WebReply, WebRequest

Body = dict[str, Any]
Handler = Callable[[AccountRecord, Body], Awaitable[WebReply]]

# Gateway field roles → this door's field names, per endpoint.
_FIELDS = {
    "phone": "phone",
    "text": "message",
    "sender": "src_addr",
    "id": "id_sms",
    "callback": "callback_url",
}
_FIELDS_V2 = {**_FIELDS, "phone": "data_message", "text": "data_message"}

_MAX_BODY = 1_000_000
_JSON_STARTS = (b"{", b"[", b'"')


class _BadRequest(Exception):
    """`spent`: refused by the gateway after the request spent its token (the door's own
    refusals spend it when answered)."""

    def __init__(self, field: str, reason: str, *, spent: bool = False) -> None:
        self.field = field
        self.reason = reason
        self.spent = spent


def _json(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> WebReply:
    return WebReply(orjson.dumps(payload), status, "application/json", headers)


def top_level_error(name: str, message: str, status: int, **headers: str) -> WebReply:
    """The contract's request-level error object; the HTTP status equals `status`."""
    body = {"name": name, "message": message, "code": 0, "status": status}
    return _json(body, status, headers or None)


def _too_many(limited: RateLimited) -> WebReply:
    retry = str(max(1, math.ceil(limited.retry_after)))
    return top_level_error(
        "Too Many Requests", "Rate limit exceeded.", 429, **{"Retry-After": retry}
    )


def _validation(field: str, reason: str) -> WebReply:
    return _json({"success_request": {"add_info": {field: reason}}}, 400)


def _success(info: object | None, add_info: dict[str, str] | None = None) -> WebReply:
    inner: dict[str, object] = {}
    if info is not None:
        inner["info"] = info
    if add_info:
        inner["add_info"] = add_info
    return _json({"success_request": inner})


UNAUTHORIZED = "Your request was made with invalid credentials."


def routes(gateway: Gateway, *, max_body: int = _MAX_BODY) -> list[Route]:
    door = _JsonDoor(gateway, max_body)
    # Every call is a POST; the app answers any other method with this door's 405.
    post = frozenset({"POST"})
    return [
        Route("/sms/send", door.endpoint(door.send, idempotent=True), post),
        Route("/v2/sms/send", door.endpoint(door.send_v2, idempotent=True), post),
        Route("/sms/status", door.endpoint(door.status), post),
        Route("/sms/originator", door.endpoint(door.originator), post),
        Route("/sms/balance", door.endpoint(door.balance), post),
    ]


class _JsonDoor:
    def __init__(self, gateway: Gateway, max_body: int) -> None:
        self._gateway = gateway
        self._max_body = max_body

    def endpoint(self, handler: Handler, *, idempotent: bool = False) -> Endpoint:
        """`idempotent`: a send, which takes an Idempotency-Key header (an extension of the
        contract: the same key within 24 h answers the first answer again)."""

        async def serve(request: WebRequest) -> WebReply:
            account: AccountRecord | None = None
            try:
                account = await self._gateway.authenticate_token(_bearer(request))
                request.account = account.login
                body = await self._read_body(request)
                key = request.header(b"idempotency-key") if idempotent else ""
                if key:
                    return await self._once(request, key, account, body, handler)
                return await handler(account, body)
            except Unauthorized:
                return top_level_error("Unauthorized", UNAUTHORIZED, 401)
            except _BadRequest as exc:
                reply = _validation(exc.field, exc.reason)
                return reply if exc.spent else await self._refused(account, reply)
            except RateLimited as exc:
                return _too_many(exc)
            except AllDuplicates:
                return top_level_error("Duplicate", "Doubled SMS in less than 2 minutes.", 453)
            except BodyTooLarge:
                reply = top_level_error("Payload Too Large", "Request body is too large.", 413)
                return await self._refused(account, reply)
            except InvalidRequest as exc:  # only the Idempotency-Key's own checks come here
                return await self._refused(account, _validation(exc.field, exc.reason))
            except KeyReused:
                message = "This Idempotency-Key was first used with another request body."
                return top_level_error("Unprocessable Entity", message, 422)
            except KeyInFlight:
                message = "The first request with this Idempotency-Key is still being served."
                return top_level_error("Conflict", message, 409, **{"Retry-After": "1"})

        return serve

    async def _refused(self, account: AccountRecord | None, reply: WebReply) -> WebReply:
        """`reply` to a request the door refused before the gateway spent its token: the
        token is spent now, and a client over its rate hears 429 instead (the limit counts
        every request, a bad one too)."""
        if account is None:
            return reply
        try:
            await self._gateway.refused(account)
        except RateLimited as exc:
            return _too_many(exc)
        return reply

    async def _once(
        self, request: WebRequest, key: str, account: AccountRecord, body: Body, handler: Handler
    ) -> WebReply:
        """The handler's reply under an Idempotency-Key: the first reply again for a retry.
        A request refused with an exception (bad field, rate limit) keeps nothing; the
        contract's answers (200, with rejected phones in add_info) are what is kept."""

        async def first() -> Answer:
            reply = await handler(account, body)
            return Answer(reply.status, reply.body)

        raw = await request.read(self._max_body)
        answer = await self._gateway.idempotent.once(account.id, key, raw, first)
        return WebReply(answer.body, answer.status, "application/json")

    async def _read_body(self, request: WebRequest) -> Body:
        data = await request.read(self._max_body)
        # The usual body starts with "{" itself: JSON whatever the label says (as below), and
        # neither the strip copies nor the header scan are needed to know that.
        if data[:1] not in _JSON_STARTS:
            if not data.strip():
                return {}
            content_type = request.header(b"content-type")
            looks_like_json = data.lstrip()[:1] in _JSON_STARTS or data.strip().isdigit()
            # curl -d sends JSON labelled as a form: trust the bytes over the label.
            if "json" not in content_type and not looks_like_json:
                return parse_form(data)
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            _refuse_lone_surrogates(data)
            raise _BadRequest("request", "Request body is not valid JSON") from None
        if parsed is None or (isinstance(parsed, list) and not parsed):
            return {}
        if not isinstance(parsed, dict):
            raise _BadRequest("request", "Request body must be a JSON object")
        return parsed

    # -- endpoints ---------------------------------------------------------------------------
    async def send(self, account: AccountRecord, body: Body) -> WebReply:
        phones = _list_of_scalars(body.get("phone"))
        if not phones:
            raise _BadRequest("phone", "Phone numbers are required")
        text = _text(body.get("message"))
        if not text:
            raise _BadRequest("message", "Message text is required")
        items = [SendItem(p, text) for p in phones]
        return await self._send(account, body, items, _FIELDS)

    async def send_v2(self, account: AccountRecord, body: Body) -> WebReply:
        entries = body.get("data_message")
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list) or not entries:
            raise _BadRequest("data_message", "data_message must be a non-empty list")
        items: list[SendItem] = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise _BadRequest("data_message", "Each item needs phone and message")
            phone = _scalar(entry.get("phone"))
            text = _text(entry.get("message"))
            if not phone:
                raise _BadRequest("phone", "Phone number is required in every item")
            if not text:
                raise _BadRequest("message", "Message text is required in every item")
            items.append(SendItem(phone=phone, text=text))
        return await self._send(account, body, items, _FIELDS_V2)

    async def _send(
        self, account: AccountRecord, body: Body, items: list[SendItem], fields: dict[str, str]
    ) -> WebReply:
        sender = _text(body.get("src_addr"))
        if not sender:
            raise _BadRequest("src_addr", "Sender name (src_addr) is required")
        lifetime = _lifetime(body.get("lifetime"))
        integration = _scalar(body.get("integration_id")) or None
        request = SendRequest(
            sender=sender,
            items=items,
            door="json",
            lifetime_minutes=lifetime,
            integration_id=integration,
            callback=_callback(body),
        )
        try:
            outcome = await self._gateway.send(account, request)
        except InvalidRequest as exc:
            raise _BadRequest(fields.get(exc.field, exc.field), exc.reason, spent=True) from None
        info = {str(message_id): phone for message_id, phone in outcome.accepted}
        add_info = {phone: str(reason) for phone, reason in outcome.rejected}
        return _success(info or None, add_info)

    async def status(self, account: AccountRecord, body: Body) -> WebReply:
        ids = _list_of_scalars(body.get("id_sms"))
        if not ids:
            raise _BadRequest("id_sms", "Message ids (id_sms) are required")
        try:
            known, unknown = await self._gateway.status(account, ids)
        except InvalidRequest as exc:
            raise _BadRequest("id_sms", exc.reason, spent=True) from None
        info = {given: str(status) for given, status in known.items()}
        return _success(info or None, {given: "Message not found" for given in unknown})

    async def originator(self, account: AccountRecord, body: Body) -> WebReply:
        return _success(await self._gateway.senders(account))

    async def balance(self, account: AccountRecord, body: Body) -> WebReply:
        balance = await self._gateway.balance(account)
        return _success({"money": format_money(balance.balance), "currency": balance.currency})


def _refuse_lone_surrogates(data: bytes) -> None:
    """A body orjson refused may still be valid JSON: a string escape of a lone UTF-16
    surrogate (`"\\ud800"`) is valid JSON but no Unicode text. Such a body gets the error of
    the field holding that string; any other body orjson refused is left to be "not valid JSON".
    Only bodies orjson refused come here, so the stdlib parser costs nothing on the hot path."""
    try:
        parsed = json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return
    field = _field_with_surrogate(parsed, "request")
    if field is not None:
        raise _BadRequest(field, "Text is not valid Unicode (a lone UTF-16 surrogate escape)")


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity, which the stdlib reads


def _field_with_surrogate(value: object, field: str) -> str | None:
    """The name of the innermost field whose string (or key) holds a lone surrogate."""
    if isinstance(value, str):
        return field if _has_surrogate(value) else None
    if isinstance(value, list):
        for item in value:
            found = _field_with_surrogate(item, field)
            if found is not None:
                return found
    elif isinstance(value, dict):
        for key, item in value.items():
            if _has_surrogate(key):
                return field
            found = _field_with_surrogate(item, key)
            if found is not None:
                return found
    return None


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bearer(request: WebRequest) -> str:
    header = request.header(b"authorization")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized()
    return token.strip()


def _scalar(value: object) -> str:
    """A phone or id as the client gave it: strings as they are, JSON integers as digits."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return orjson.dumps(value).decode()


def _list_of_scalars(value: object) -> list[str]:
    if value is None or value == "":
        return []
    values = value if isinstance(value, list) else [value]
    scalars = []
    for v in values:
        # A JSON string (nearly every phone) inline, as _scalar treats it; the rest through it.
        s = v.strip() if type(v) is str else _scalar(v)
        if s:
            scalars.append(s)
    return scalars


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _callback(body: Body) -> MessageCallback | None:
    """The optional callback_url (an extension; clients that do not send it see no change),
    with callback_method and callback_events ("final", "all" or a dlr-mask, domain/dlr_mask)."""
    url, method, events = (body.get(k) for k in _CALLBACK_FIELDS.values())
    if isinstance(events, int) and not isinstance(events, bool):
        events = str(events)  # a dlr-mask given as a number
    for name, value in zip(_CALLBACK_FIELDS.values(), (url, method, events), strict=True):
        if value is not None and not isinstance(value, str):
            raise _BadRequest(name, f"{name} must be a string")  # callback_events: or a number
    try:
        return callback_of(str(url or ""), str(method or ""), str(events or ""))
    except CallbackOptionError as exc:
        raise _BadRequest(_CALLBACK_FIELDS[exc.option], exc.reason) from None


_CALLBACK_FIELDS = {"url": "callback_url", "method": "callback_method", "events": "callback_events"}


def _lifetime(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        minutes = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        minutes = math.nan
    if isinstance(value, bool) or not math.isfinite(minutes) or minutes <= 0:
        raise _BadRequest("lifetime", "Lifetime must be a positive number of minutes")
    return minutes
