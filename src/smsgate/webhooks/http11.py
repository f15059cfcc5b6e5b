"""HTTP/1.1 for the webhook sender, without I/O: a request turned into bytes, and a response
parser fed bytes that hands back events (head, body data, end) and says whether the connection
may carry another request.

It never touches a socket or a clock, so tests feed it bytes (split anywhere, several responses
at once). It knows only what a client sending one request at a time needs: status line,
headers, Content-Length, chunked and close-delimited bodies, interim 1xx answers, keep-alive.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from enum import Enum
from typing import Final

from smsgate.immutable import record

MAX_HEAD_BYTES = 64 * 1024  # status line plus headers; also bounds a chunked body's trailers
_MAX_CHUNK_LINE = 1024  # a chunk-size line with its extensions

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TARGET = re.compile(r"[!-~]+")  # visible ASCII: a space or control would end the request line
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: ([^\r\n]*))?")
_HEADER_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*")
_CHUNK_SIZE = re.compile(rb"[ \t]*([0-9A-Fa-f]{1,16})[ \t]*(?:;.*)?")
_SENDER_OWNED = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})

Headers = tuple[tuple[str, str], ...]  # names lower-cased, values as sent (latin-1)


class RequestInvalid(ValueError):
    """A request that cannot be written as HTTP/1.1 (a line break in a header, a bad name)."""


class ProtocolError(Exception):
    """The peer did not speak HTTP/1.1 as a server must; the connection is unusable."""


def encode_request(
    method: str, target: str, host: str, headers: Iterable[tuple[str, str]], body: bytes
) -> bytes:
    """The bytes of one request: `target` is the origin-form path and query, already
    percent-encoded; Host and Content-Length are ours, every other header is the caller's."""
    head = _head(method, target, host, tuple(headers))
    if body or method not in _NO_BODY_METHODS:
        return b"%scontent-length: %d\r\n\r\n%s" % (head, len(body), body)
    return head + b"\r\n"


# Cached: a POST callback's head is the same for every message to one URL (only the body
# and its length differ), and checking and encoding it was most of a request's bytes' cost.
@functools.lru_cache(maxsize=1024)
def _head(method: str, target: str, host: str, headers: Headers) -> bytes:
    """The request line and headers, each line ended, without Content-Length."""
    if _TOKEN.fullmatch(method) is None or _TARGET.fullmatch(target) is None:
        raise RequestInvalid(f"cannot send {method!r} {target!r} as an HTTP/1.1 request line")
    lines = [f"{method} {target} HTTP/1.1", f"host: {host}"]
    for name, value in headers:
        if _TOKEN.fullmatch(name) is None or name.lower() in _SENDER_OWNED:
            raise RequestInvalid(f"header name {name!r} is not one a caller may send")
        lines.append(f"{name}: {value}")
    text = "\r\n".join(lines) + "\r\n"
    # One count instead of a scan per value: any CR, LF or NUL inside a value shows up here.
    ends = len(lines)
    if text.count("\n") != ends or text.count("\r") != ends or "\0" in text:
        raise RequestInvalid("a header value holds a line break or a NUL byte")
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise RequestInvalid("header values must be ASCII") from None


@record
class ResponseHead:
    status: int
    reason: str
    headers: Headers

    def header(self, name: str) -> str | None:
        """The value of header `name` (lower case); repeats joined with ", " as HTTP allows."""
        values = [v for n, v in self.headers if n == name]
        return ", ".join(values) if values else None


@record
class Data:
    data: bytes


class _Marker(Enum):
    NEED_DATA = "need data"  # feed more bytes (or the end of the stream) and ask again
    END = "end of response"  # the response is complete; see `reusable`


NEED_DATA: Final = _Marker.NEED_DATA
END: Final = _Marker.END
Event = ResponseHead | Data | _Marker


class _State(Enum):
    IDLE = "no request outstanding"
    HEAD = "reading the head"
    LENGTH = "body of known length"
    CHUNK_SIZE = "chunk-size line"
    CHUNK_DATA = "chunk data"
    CHUNK_END = "CRLF after chunk data"
    TRAILERS = "trailer lines"
    UNTIL_CLOSE = "body ends when the connection does"
    NO_BODY = "head complete, no body follows"
    DONE = "response complete"


class ResponseParser:
    """Parses the responses on one connection, one request at a time: call `expect(method)`
    when a request goes out, `feed` what arrives (and `feed_eof` at the end of the stream),
    and take events from `next_event` until END. Bytes past a response stay buffered for the
    next one; bytes with no request outstanding are a ProtocolError."""

    def __init__(self) -> None:
        self._buffer = b""
        self._state = _State.IDLE
        self._method = ""
        self._left = 0  # bytes of the body or of the current chunk still to come
        self._eof = False
        self._keep_alive = False
        self.received_any = False  # a byte of the current response has arrived

    @property
    def reusable(self) -> bool:
        """The last response is complete, the server keeps the connection open, and nothing
        past the response has arrived (a client sending one request at a time has no use for
        such bytes: they answer nothing it asked)."""
        return (
            self._state is _State.DONE and self._keep_alive and not self._eof and not self._buffer
        )

    def expect(self, method: str) -> None:
        """A request with `method` was sent; its response comes next."""
        if self._state is not _State.IDLE and self._state is not _State.DONE:
            raise RuntimeError("the previous response is not complete")
        self._state = _State.HEAD
        self._method = method
        self.received_any = bool(self._buffer)

    def feed(self, data: bytes) -> None:
        if data:
            self._buffer += data
            self.received_any = True

    def feed_eof(self) -> None:
        self._eof = True

    def next_event(self) -> Event:
        """The next event, NEED_DATA when the buffer holds no complete one, or ProtocolError."""
        state = self._state
        if state is _State.HEAD:
            return self._head()
        if state is _State.LENGTH:
            return self._length_data()
        if state is _State.UNTIL_CLOSE:
            return self._until_close()
        if state is _State.NO_BODY:
            self._state = _State.DONE
            return END
        if state is _State.IDLE or state is _State.DONE:
            if self._buffer:
                raise ProtocolError("the server sent bytes with no request outstanding")
            return NEED_DATA
        return self._chunked()

    def _head(self) -> Event:
        while True:
            match = _HEAD_END.search(self._buffer)
            if match is None:
                if len(self._buffer) > MAX_HEAD_BYTES:
                    raise ProtocolError(f"response head longer than {MAX_HEAD_BYTES} bytes")
                if self._eof:
                    raise ProtocolError(
                        "connection closed in the middle of a response head"
                        if self._buffer
                        else "connection closed before a response"
                    )
                return NEED_DATA
            if match.start() > MAX_HEAD_BYTES:
                raise ProtocolError(f"response head longer than {MAX_HEAD_BYTES} bytes")
            head = self._buffer[: match.start()]
            self._buffer = self._buffer[match.end() :]
            version, status, reason, headers = _parse_head(head)
            if 100 <= status < 200:
                if status == 101:
                    raise ProtocolError("the server switched protocols, which was not asked")
                continue  # an interim answer (100 Continue, 103 Early Hints): the real one follows
            return self._start_body(version, status, reason, headers)

    def _start_body(self, version: str, status: int, reason: str, headers: Headers) -> Event:
        connection = ",".join(v for n, v in headers if n == "connection").lower()
        self._keep_alive = version == "1" and "close" not in connection
        codings = [v for n, v in headers if n == "transfer-encoding"]
        lengths = {v.strip() for n, v in headers if n == "content-length"}
        if self._method == "HEAD" or status in (204, 304):
            self._state = _State.NO_BODY
        elif codings:
            last = ",".join(codings).rsplit(",", 1)[-1].strip().lower()
            if last == "chunked":
                self._state = _State.CHUNK_SIZE
            else:  # RFC 9112 6.3: a final coding other than chunked is read until close
                self._state = _State.UNTIL_CLOSE
                self._keep_alive = False
            if lengths:  # both framings at once: never trust the connection again
                self._keep_alive = False
        elif lengths:
            if len(lengths) > 1:
                raise ProtocolError(f"conflicting Content-Length headers {sorted(lengths)}")
            (text,) = lengths
            if not text.isdigit() or not text.isascii():
                raise ProtocolError(f"Content-Length {text!r} is not a number")
            self._left = int(text)
            self._state = _State.LENGTH if self._left else _State.NO_BODY
        else:
            self._state = _State.UNTIL_CLOSE
            self._keep_alive = False
        return ResponseHead(status, reason, headers)

    def _length_data(self) -> Event:
        if self._left == 0:
            self._state = _State.DONE
            return END
        buffer = self._buffer
        if not buffer:
            if self._eof:
                raise ProtocolError(f"connection closed with {self._left} body bytes missing")
            return NEED_DATA
        taken = buffer[: self._left]
        self._buffer = buffer[len(taken) :]
        self._left -= len(taken)
        return Data(taken)

    def _until_close(self) -> Event:
        if self._buffer:
            taken, self._buffer = self._buffer, b""
            return Data(taken)
        if self._eof:
            self._state = _State.DONE
            return END
        return NEED_DATA

    def _chunked(self) -> Event:
        while True:
            state = self._state
            if state is _State.DONE:
                return END
            if state is _State.CHUNK_DATA:
                if not self._buffer:
                    return self._need("chunk data")
                taken = self._buffer[: self._left]
                self._buffer = self._buffer[len(taken) :]
                self._left -= len(taken)
                if self._left == 0:
                    self._state = _State.CHUNK_END
                return Data(taken)
            if state is _State.CHUNK_END:
                if len(self._buffer) < 2:
                    return self._need("the end of a chunk")
                if self._buffer[:2] != b"\r\n":
                    raise ProtocolError("chunk data longer than its chunk-size said")
                self._buffer = self._buffer[2:]
                self._state = _State.CHUNK_SIZE
                continue
            end = self._buffer.find(b"\r\n")
            if end < 0:
                limit = MAX_HEAD_BYTES if state is _State.TRAILERS else _MAX_CHUNK_LINE
                if len(self._buffer) > limit:
                    raise ProtocolError(f"a chunked-body line longer than {limit} bytes")
                return self._need("a chunk-size line")
            line, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
            if state is _State.TRAILERS:
                if not line:
                    self._state = _State.DONE
                continue  # trailer fields are read and dropped: nothing here needs them
            match = _CHUNK_SIZE.fullmatch(line)
            if match is None:
                raise ProtocolError(f"bad chunk-size line {line[:40]!r}")
            self._left = int(match.group(1), 16)
            self._state = _State.CHUNK_DATA if self._left else _State.TRAILERS

    def _need(self, what: str) -> Event:
        if self._eof:
            raise ProtocolError(f"connection closed while waiting for {what}")
        return NEED_DATA


def _parse_head(head: bytes) -> tuple[str, int, str, Headers]:
    lines = head.split(b"\n")
    match = _STATUS_LINE.fullmatch(lines[0].rstrip(b"\r"))
    if match is None:
        raise ProtocolError(f"bad status line {lines[0][:60]!r}")
    headers = []
    for raw in lines[1:]:
        field = _HEADER_LINE.fullmatch(raw.rstrip(b"\r"))
        if field is None:
            raise ProtocolError(f"bad header line {raw[:60]!r}")
        headers.append((field[1].decode("ascii").lower(), field[2].decode("latin-1")))
    reason = (match[3] or b"").decode("latin-1")
    return match[1].decode(), int(match[2]), reason, tuple(headers)
