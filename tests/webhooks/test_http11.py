"""The HTTP/1.1 core without sockets: requests encoded to bytes, responses parsed from bytes
fed in any pieces, and when a connection may carry the next request."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.webhooks.http11 import (
    END,
    MAX_HEAD_BYTES,
    NEED_DATA,
    Data,
    Event,
    ProtocolError,
    RequestInvalid,
    ResponseHead,
    ResponseParser,
    encode_request,
)


def pull(parser: ResponseParser) -> list[Event]:
    """Events until the parser needs data or the response ends (END included)."""
    events: list[Event] = []
    while True:
        event = parser.next_event()
        if event is NEED_DATA:
            return events
        events.append(event)
        if event is END:
            return events


def response_of(parser: ResponseParser) -> tuple[int, bytes]:
    """Status and whole body of the response in the parser's events so far."""
    events = pull(parser)
    heads = [e for e in events if isinstance(e, ResponseHead)]
    assert len(heads) == 1 and events[-1] is END
    return heads[0].status, b"".join(e.data for e in events if isinstance(e, Data))


def parse(raw: bytes, method: str = "POST") -> tuple[ResponseParser, list[Event]]:
    parser = ResponseParser()
    parser.expect(method)
    parser.feed(raw)
    return parser, pull(parser)


# -- requests ---------------------------------------------------------------------------------


def test_a_post_carries_host_content_length_and_the_callers_headers() -> None:
    wire = encode_request(
        "POST", "/dlr?order=17", "hooks.example:8080", [("content-type", "x/y")], b"id=1"
    )
    assert wire == (
        b"POST /dlr?order=17 HTTP/1.1\r\nhost: hooks.example:8080\r\ncontent-type: x/y\r\n"
        b"content-length: 4\r\n\r\nid=1"
    )


def test_a_get_without_a_body_sends_no_content_length() -> None:
    assert encode_request("GET", "/dlr?id=1", "h", [], b"") == (
        b"GET /dlr?id=1 HTTP/1.1\r\nhost: h\r\n\r\n"
    )


def test_an_empty_post_says_its_length_is_zero() -> None:
    assert b"content-length: 0\r\n" in encode_request("POST", "/", "h", [], b"")


@pytest.mark.parametrize(
    "header",
    [("x-a", "1\r\nx-injected: 2"), ("x-a", "1\nx"), ("x-a", "nul\0"), ("x a", "1"), ("", "1")],
)
def test_a_header_that_would_break_the_head_is_refused(header: tuple[str, str]) -> None:
    with pytest.raises(RequestInvalid):
        encode_request("POST", "/", "h", [header], b"")


@pytest.mark.parametrize("name", ["Host", "content-length", "Transfer-Encoding", "connection"])
def test_framing_headers_are_the_senders_own(name: str) -> None:
    with pytest.raises(RequestInvalid, match="not one a caller may send"):
        encode_request("POST", "/", "h", [(name, "1")], b"")


@pytest.mark.parametrize(("method", "target"), [("PO ST", "/"), ("POST", "/a b"), ("GET", "")])
def test_a_request_line_that_would_not_parse_is_refused(method: str, target: str) -> None:
    with pytest.raises(RequestInvalid):
        encode_request(method, target, "h", [], b"")


def test_non_ascii_header_values_are_refused() -> None:
    with pytest.raises(RequestInvalid, match="ASCII"):
        encode_request("POST", "/", "h", [("x-name", "Łódź")], b"")


# -- responses --------------------------------------------------------------------------------


def test_a_response_with_content_length_gives_head_body_and_end() -> None:
    parser, events = parse(
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 9\r\n\r\nslow down"
    )
    assert events == [
        ResponseHead(429, "Too Many Requests", (("retry-after", "7"), ("content-length", "9"))),
        Data(b"slow down"),
        END,
    ]
    assert parser.reusable


def test_a_204_and_an_answer_to_head_have_no_body() -> None:
    parser, events = parse(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert events == [ResponseHead(204, "No Content", ()), END] and parser.reusable
    parser, events = parse(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", method="HEAD")
    assert events[-1] is END and parser.reusable


def test_a_status_line_without_a_reason_is_accepted() -> None:
    _, events = parse(b"HTTP/1.1 204\r\n\r\n")
    assert events == [ResponseHead(204, "", ()), END]


def test_repeated_headers_are_joined_when_asked_for() -> None:
    _, events = parse(b"HTTP/1.1 204 X\r\nWarning: a\r\nwarning: b\r\n\r\n")
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert head.header("warning") == "a, b" and head.header("retry-after") is None


def test_a_chunked_body_is_decoded_with_extensions_and_trailers_dropped() -> None:
    parser, events = parse(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n1A\r\n" + b"z" * 26 + b"\r\n0\r\nExpires: never\r\n\r\n"
    )
    assert b"".join(e.data for e in events if isinstance(e, Data)) == b"hello" + b"z" * 26
    assert events[-1] is END and parser.reusable


CHUNKED = (
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n"
    b"3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"
)


@given(st.lists(st.integers(min_value=0, max_value=len(CHUNKED)), max_size=12))
def test_a_response_split_anywhere_parses_the_same(cuts: list[int]) -> None:
    parser = ResponseParser()
    parser.expect("POST")
    events: list[Event] = []
    bounds = [0, *sorted(cuts), len(CHUNKED)]
    for start, end in itertools.pairwise(bounds):
        parser.feed(CHUNKED[start:end])
        events += pull(parser)
    assert [e.status for e in events if isinstance(e, ResponseHead)] == [200]
    assert b"".join(e.data for e in events if isinstance(e, Data)) == b"abc0123456789abcdef"
    assert events[-1] is END and parser.reusable


def test_two_responses_arriving_together_are_parsed_one_request_at_a_time() -> None:
    parser = ResponseParser()
    parser.expect("POST")
    parser.feed(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
        b"HTTP/1.1 500 X\r\ncontent-length: 4\r\n\r\nnope"
    )
    assert response_of(parser) == (200, b"ok")
    assert not parser.reusable  # bytes past the answer: not for a one-at-a-time client to reuse
    parser.expect("POST")
    assert parser.received_any
    assert response_of(parser) == (500, b"nope")
    assert parser.reusable


def test_an_interim_100_continue_is_skipped() -> None:
    _, events = parse(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    assert events == [ResponseHead(204, "No Content", ()), END]


def test_bare_line_feeds_are_tolerated_in_the_head() -> None:
    _, events = parse(b"HTTP/1.1 204 No Content\nx-a: 1\n\n")
    assert events == [ResponseHead(204, "No Content", (("x-a", "1"),)), END]


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 0\r\n\r\n",
        b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n0\r\n\r\n",
    ],
    ids=["connection-close", "http-1.0", "chunked-and-length"],
)
def test_connections_the_server_will_not_keep_are_not_reused(raw: bytes) -> None:
    parser, events = parse(raw)
    assert events[-1] is END and not parser.reusable


def test_a_body_without_framing_runs_until_the_connection_closes() -> None:
    parser, events = parse(b"HTTP/1.1 200 OK\r\n\r\npart one,")
    assert events[1:] == [Data(b"part one,")]
    parser.feed(b" part two")
    parser.feed_eof()
    assert pull(parser) == [Data(b" part two"), END]
    assert not parser.reusable


def test_a_connection_closed_before_any_byte_says_so() -> None:
    parser = ResponseParser()
    parser.expect("POST")
    parser.feed_eof()
    with pytest.raises(ProtocolError, match="closed before a response"):
        parser.next_event()
    assert not parser.received_any


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort", "5 body bytes missing"),
        (b"HTTP/1.1 200 OK\r\ncont", "middle of a response head"),
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab", "chunk data"),
    ],
)
def test_a_connection_closed_mid_response_is_a_protocol_error(raw: bytes, error: str) -> None:
    parser, _ = parse(raw)
    parser.feed_eof()
    with pytest.raises(ProtocolError, match=error):
        pull(parser)
    assert parser.received_any


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"SMPP/3.4 200 OK\r\n\r\n", "bad status line"),
        (b"HTTP/1.1 20 OK\r\n\r\n", "bad status line"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "bad header line"),
        (b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", "bad header line"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n", "conflicting"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", "not a number"),
        (b"HTTP/1.1 101 Switching\r\n\r\n", "switched protocols"),
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", "chunk-size"),
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nabc\r\n", "longer than"),
    ],
)
def test_broken_http_is_a_protocol_error(raw: bytes, error: str) -> None:
    with pytest.raises(ProtocolError, match=error):
        parse(raw)


def test_a_head_past_the_limit_is_refused_before_its_end_arrives() -> None:
    parser = ResponseParser()
    parser.expect("GET")
    parser.feed(b"HTTP/1.1 200 OK\r\nx-big: " + b"a" * MAX_HEAD_BYTES)
    with pytest.raises(ProtocolError, match="head longer than"):
        parser.next_event()


def test_bytes_with_no_request_outstanding_are_a_protocol_error() -> None:
    parser, _ = parse(b"HTTP/1.1 204 No Content\r\n\r\n")
    parser.feed(b"HTTP/1.1 204 No Content\r\n\r\n")
    with pytest.raises(ProtocolError, match="no request outstanding"):
        parser.next_event()
