"""The per-message callback: POST form or GET query, the URL's own parameters kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.webhooks.callback_form import FORM_TYPE, CallbackFields, callback_request

DONE = datetime(2026, 12, 7, 3, 4, 5, tzinfo=UTC)
FIELDS = CallbackFields("1a2b", "380501234567", "DELIVRD", "000", 2, DONE)
EXPECTED = [
    ("id", "1a2b"),
    ("phone", "380501234567"),
    ("status", "DELIVRD"),
    ("err", "000"),
    ("parts", "2"),
    ("done_at", "2026-12-07T03:04:05Z"),
]


def test_post_sends_a_form_and_keeps_the_urls_query_as_written() -> None:
    request = callback_request("https://shop.example/dlr?order=17&sig=a%2Bb", FIELDS)
    assert request.method == "POST"
    assert request.url == "https://shop.example/dlr?order=17&sig=a%2Bb"
    assert dict(request.headers)["content-type"] == FORM_TYPE
    assert parse_qsl(request.body.decode()) == EXPECTED


def test_get_puts_the_fields_after_the_urls_own_parameters() -> None:
    request = callback_request("https://shop.example/dlr?order=17", FIELDS, "GET")
    assert request.method == "GET" and request.body == b""
    assert parse_qsl(urlsplit(request.url).query) == [("order", "17"), *EXPECTED]


@pytest.mark.parametrize(
    ("url", "query_start"),
    [
        ("https://shop.example/dlr", "https://shop.example/dlr?id="),
        ("https://shop.example/dlr?", "https://shop.example/dlr?id="),
        ("https://shop.example/dlr?a=1&", "https://shop.example/dlr?a=1&id="),
        ("https://shop.example/dlr?a=1#frag", "https://shop.example/dlr?a=1&id="),
    ],
)
def test_get_joins_the_query_cleanly(url: str, query_start: str) -> None:
    assert callback_request(url, FIELDS, "GET").url.startswith(query_start)


def test_a_name_clash_sends_both_values_the_customers_first() -> None:
    request = callback_request("https://shop.example/dlr?id=mine", FIELDS, "GET")
    ids = [v for k, v in parse_qsl(urlsplit(request.url).query) if k == "id"]
    assert ids == ["mine", "1a2b"]


def test_text_is_percent_encoded() -> None:
    fields = CallbackFields("x", "+380 50", "UNDELIV", "", 1, None)
    body = callback_request("https://a.example/", fields).body
    assert b"phone=%2B380+50" in body
    assert parse_qsl(body.decode(), keep_blank_values=True)[-1] == ("done_at", "")


def test_done_at_is_given_in_utc() -> None:
    kyiv = DONE.astimezone(timezone(timedelta(hours=2)))
    fields = CallbackFields("x", "1", "DELIVRD", "000", 1, kyiv)
    assert dict(fields.pairs())["done_at"] == "2026-12-07T03:04:05Z"
    with pytest.raises(ValueError, match="time zone"):
        CallbackFields("x", "1", "DELIVRD", "000", 1, datetime(2026, 1, 1)).pairs()


def test_other_methods_are_refused() -> None:
    with pytest.raises(ValueError, match="GET or POST"):
        callback_request("https://a.example/", FIELDS, "PUT")  # type: ignore[arg-type]


@given(st.text(), st.text(), st.datetimes(timezones=st.just(UTC)))
def test_the_form_is_urlencodes_byte_for_byte(phone: str, err: str, done: datetime) -> None:
    fields = CallbackFields("1a2b", phone, "DELIVRD", err, 3, done)
    body = callback_request("https://a.example/", fields).body
    assert body == urlencode(fields.pairs()).encode()
