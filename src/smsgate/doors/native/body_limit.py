"""The native API's body limit: a body past `max_body` bytes is answered 413 (a problem)
before the framework reads it, so no request can make a node buffer more than that.

The body is read here whole (the API's bodies are small) and handed on as one message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from smsgate.doors.web import Message, Receive, Scope, Send

from .problems import ProblemError, problem_response

Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    def __init__(self, app: Asgi, max_body: int) -> None:
        self._app = app
        self._max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        chunks = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # never act on half a body
            chunks += message.get("body", b"")
            if len(chunks) > self._max_body:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body = bytes(chunks)
        given = False

        async def replay() -> Message:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self._app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = ProblemError(
            413,
            "payload-too-large",
            "Payload Too Large",
            f"The body is longer than {self._max_body} bytes.",
            headers={"Connection": "close"},
        )
        await problem_response(error)(scope, receive, send)
