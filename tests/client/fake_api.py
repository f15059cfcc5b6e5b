"""A stand-in for the JSON API behind httpx.MockTransport, answering in the contract's shapes
(smsclub-api.md section 1), with a queue of scripted answers that take precedence, for errors
and retries. Tests of the SDK and the CLI run against it; no socket is opened.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

TOKEN = "test-token"
SENDER = "Shop"


def top_level(name: str, message: str, status: int, **headers: str) -> httpx.Response:
    body = {"name": name, "message": message, "code": 0, "status": status}
    return httpx.Response(status, json=body, headers=headers)


def validation(field_name: str, reason: str) -> httpx.Response:
    return httpx.Response(400, json={"success_request": {"add_info": {field_name: reason}}})


@dataclass
class Seen:
    path: str
    body: dict[str, Any]
    headers: httpx.Headers


@dataclass
class FakeApi:
    senders: list[str] = field(default_factory=lambda: [SENDER, "Info"])
    statuses: dict[str, str] = field(default_factory=dict)
    scripted: deque[httpx.Response | Exception] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)
    next_id: int = 1000

    def script(self, *answers: httpx.Response | Exception) -> None:
        """Answer the next requests with these, in order (an exception is raised as by a
        transport), before answering normally again."""
        self.scripted.extend(answers)

    @property
    def paths(self) -> list[str]:
        return [s.path for s in self.seen]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.seen.append(Seen(request.url.path, body, request.headers))
        if self.scripted:
            answer = self.scripted.popleft()
            if isinstance(answer, Exception):
                raise answer
            return answer
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return top_level("Unauthorized", "Your request was made with invalid credentials.", 401)
        route = {
            "/sms/send": self._send,
            "/v2/sms/send": self._send_v2,
            "/sms/status": self._status,
            "/sms/balance": self._balance,
            "/sms/originator": self._originator,
        }.get(request.url.path)
        if route is None:
            return httpx.Response(404, text="<html>Not Found</html>")
        return route(body)

    def _accept(self, pairs: list[tuple[str, str]], sender: str) -> httpx.Response:
        if sender not in self.senders:
            return validation("src_addr", "Sender name is not active")
        if len(pairs) > 100:
            return validation("phone", "At most 100 recipients per request")
        info: dict[str, str] = {}
        add_info: dict[str, str] = {}
        for phone, _text in pairs:
            if not phone.isdigit():
                add_info[phone] = "Invalid phone number"
                continue
            self.next_id += 1
            info[str(self.next_id)] = phone
            self.statuses[str(self.next_id)] = "ENROUTE"
        inner: dict[str, object] = {"info": info} if info else {}
        if add_info:
            inner["add_info"] = add_info
        return httpx.Response(200, json={"success_request": inner})

    def _send(self, body: dict[str, Any]) -> httpx.Response:
        phones = [str(p) for p in body.get("phone") or []]
        if not phones:
            return validation("phone", "Phone numbers are required")
        if not body.get("message"):
            return validation("message", "Message text is required")
        return self._accept([(p, body["message"]) for p in phones], body.get("src_addr", ""))

    def _send_v2(self, body: dict[str, Any]) -> httpx.Response:
        items = body.get("data_message") or []
        if not items:
            return validation("data_message", "data_message must be a non-empty list")
        pairs = [(str(i["phone"]), str(i["message"])) for i in items]
        return self._accept(pairs, body.get("src_addr", ""))

    def _status(self, body: dict[str, Any]) -> httpx.Response:
        ids = [str(i) for i in body.get("id_sms") or []]
        if not ids:
            return validation("id_sms", "Message ids (id_sms) are required")
        info = {i: self.statuses[i] for i in ids if i in self.statuses}
        unknown = {i: "Message not found" for i in ids if i not in self.statuses}
        inner: dict[str, object] = {"info": info} if info else {}
        if unknown:
            inner["add_info"] = unknown
        return httpx.Response(200, json={"success_request": inner})

    def _balance(self, body: dict[str, Any]) -> httpx.Response:
        return httpx.Response(
            200, json={"success_request": {"info": {"money": "8111.1700", "currency": "UAH"}}}
        )

    def _originator(self, body: dict[str, Any]) -> httpx.Response:
        return httpx.Response(200, json={"success_request": {"info": self.senders}})


class Sleeps(list[float]):
    """A sleep function that records how long it was asked to sleep and returns at once, moving
    its own clock forward by that much (use `clock` where a monotonic clock is wanted)."""

    now: float = 1000.0

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self(seconds)

    def clock(self) -> float:
        return self.now
