"""The conversation of one SDK call, written once for both clients: a generator that yields
`Send` and `Sleep` actions and is fed each answer (or transport failure), applying the retry
policy and merging chunked results in order.

It does no I/O itself; `drive_sync` and `drive_async` are the only places that touch a transport.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import TypeVar

from smsgate.immutable import record

from .errors import SmsGateError, TransportError
from .protocol import ApiRequest, ApiResponse, Call
from .retry import RetryPolicy

P = TypeVar("P")
T = TypeVar("T")


@record
class Send:
    request: ApiRequest


@record
class Sleep:
    seconds: float


Action = Send | Sleep
Outcome = ApiResponse | TransportError | None
Conversation = Generator[Action, Outcome, T]


def conversation(call: Call[P, T], policy: RetryPolicy) -> Conversation[T]:
    """Run `call`'s requests one after another. When one finally fails, its error is raised with
    `partial` set to the merged results of the requests that had succeeded (None if none had)."""
    parts: list[P] = []
    read = call.reader()
    for request in call.requests:
        attempt = 0
        while True:
            outcome = yield Send(request)
            if outcome is None:
                raise RuntimeError("a Send action must be answered with a response or an error")
            answer = outcome if isinstance(outcome, TransportError) else read(outcome)
            if not isinstance(answer, SmsGateError):
                try:
                    parts.append(call.parse(answer))
                except SmsGateError as error:
                    error.partial = call.merge(parts) if parts else None
                    raise
                break
            wait = policy.delay(attempt, answer)
            if wait is None:
                answer.partial = call.merge(parts) if parts else None
                raise answer
            attempt += 1
            yield Sleep(wait)
    return call.merge(parts)


def drive_sync(
    talk: Conversation[T],
    send: Callable[[ApiRequest], ApiResponse | TransportError],
    sleep: Callable[[float], object],
) -> T:
    try:
        action = next(talk)
        while True:
            if isinstance(action, Sleep):
                sleep(action.seconds)
                action = talk.send(None)
            else:
                action = talk.send(send(action.request))
    except StopIteration as done:
        result: T = done.value
        return result


async def drive_async(
    talk: Conversation[T],
    send: Callable[[ApiRequest], Awaitable[ApiResponse | TransportError]],
    sleep: Callable[[float], Awaitable[object]],
) -> T:
    try:
        action = next(talk)
        while True:
            if isinstance(action, Sleep):
                await sleep(action.seconds)
                action = talk.send(None)
            else:
                action = talk.send(await send(action.request))
    except StopIteration as done:
        result: T = done.value
        return result
