"""`Client` against httpx.MockTransport: every operation, every error kind, splitting over 100
and the retry rules, with the sleep function injected so nothing really sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from smsgate.client import (
    AuthenticationError,
    Balance,
    Client,
    DuplicateError,
    RateLimitedError,
    ServerError,
    SmsGateError,
    Status,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)

from .fake_api import SENDER, TOKEN, FakeApi, Sleeps, top_level, validation


@pytest.fixture
def client(api: FakeApi, sleeps: Sleeps) -> Iterator[Client]:
    with Client(
        "http://gateway.test", TOKEN, transport=api.transport(), sleep=sleeps, backoff=0.5
    ) as c:
        yield c


def test_send_returns_accepted_ids_by_phone(client: Client, api: FakeApi) -> None:
    result = client.send(["380501234567", "380501234568"], "Hello", SENDER)
    assert list(result.accepted.values()) == ["380501234567", "380501234568"]
    assert result.rejected == {}
    assert api.seen[0].path == "/sms/send"
    assert api.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert api.seen[0].headers["content-type"] == "application/json"


def test_send_passes_lifetime_and_integration_id(client: Client, api: FakeApi) -> None:
    client.send("380501234567", "Hello", SENDER, lifetime=30, integration_id="crm-1")
    assert api.seen[0].body["lifetime"] == 30
    assert api.seen[0].body["integration_id"] == "crm-1"


def test_send_reports_rejected_phones_beside_accepted_ones(client: Client) -> None:
    result = client.send(["380501234567", "bogus"], "Hello", SENDER)
    assert list(result.accepted.values()) == ["380501234567"]
    assert result.rejected == {"bogus": "Invalid phone number"}


def test_send_where_nothing_was_accepted_is_a_result_not_an_error(client: Client) -> None:
    result = client.send(["bogus"], "Hello", SENDER)
    assert result.accepted == {}
    assert result.rejected == {"bogus": "Invalid phone number"}


def test_send_personal_uses_v2_with_one_text_per_phone(client: Client, api: FakeApi) -> None:
    result = client.send_personal([("380501234567", "A"), ("380501234568", "B")], SENDER)
    assert len(result.accepted) == 2
    assert api.seen[0].path == "/v2/sms/send"
    assert api.seen[0].body["data_message"][1] == {"phone": "380501234568", "message": "B"}


def test_250_recipients_are_sent_as_three_requests_and_merged_in_order(
    client: Client, api: FakeApi
) -> None:
    phones = [f"380500{n:06d}" for n in range(250)]
    result = client.send(phones, "Hello", SENDER)
    assert [len(s.body["phone"]) for s in api.seen] == [100, 100, 50]
    assert list(result.accepted.values()) == phones


def test_personal_sends_over_100_are_split_too(client: Client, api: FakeApi) -> None:
    items = [(f"380500{n:06d}", f"text {n}") for n in range(201)]
    result = client.send_personal(items, SENDER)
    assert [len(s.body["data_message"]) for s in api.seen] == [100, 100, 1]
    assert list(result.accepted.values()) == [phone for phone, _ in items]


def test_status_maps_ids_to_statuses_and_reports_unknown_ids(client: Client, api: FakeApi) -> None:
    ids = client.send(["380501234567", "380501234568"], "Hello", SENDER).ids
    api.statuses[ids[0]] = "DELIVRD"
    report = client.status([*ids, "999"])
    assert dict(report) == {ids[0]: Status.DELIVRD, ids[1]: Status.ENROUTE}
    assert report.unknown == {"999": "Message not found"}
    assert not report.all_final


def test_status_of_over_100_ids_is_split_and_merged_in_order(client: Client, api: FakeApi) -> None:
    ids = [str(n) for n in range(1, 151)]
    api.statuses.update({i: "DELIVRD" for i in ids})
    report = client.status(ids)
    assert list(report) == ids
    assert len(api.seen) == 2


def test_balance_is_decimal_money_with_currency(client: Client) -> None:
    assert client.balance() == Balance(Decimal("8111.1700"), "UAH")


def test_senders_lists_the_accounts_sender_names(client: Client, api: FakeApi) -> None:
    assert client.senders() == [SENDER, "Info"]
    assert api.seen[0].path == "/sms/originator"


def test_a_wrong_token_is_an_authentication_error_and_is_not_retried(
    api: FakeApi, sleeps: Sleeps
) -> None:
    wrong = Client("http://gateway.test", "wrong", transport=api.transport(), sleep=sleeps)
    with wrong as c, pytest.raises(AuthenticationError) as raised:
        c.balance()
    assert raised.value.status_code == 401
    assert raised.value.message == "Your request was made with invalid credentials."
    assert len(api.seen) == 1
    assert sleeps == []


def test_an_inactive_sender_is_a_validation_error_with_fields_and_is_not_retried(
    client: Client, api: FakeApi, sleeps: Sleeps
) -> None:
    with pytest.raises(ValidationError) as raised:
        client.send(["380501234567"], "Hello", "Nobody")
    assert raised.value.status_code == 400
    assert raised.value.fields == {"src_addr": "Sender name is not active"}
    assert len(api.seen) == 1
    assert sleeps == []


def test_all_duplicates_is_a_duplicate_error_and_is_not_retried(
    client: Client, api: FakeApi, sleeps: Sleeps
) -> None:
    api.script(top_level("Duplicate", "Doubled SMS in less than 2 minutes.", 453))
    with pytest.raises(DuplicateError) as raised:
        client.send(["380501234567"], "Hello", SENDER)
    assert raised.value.status_code == 453
    assert raised.value.message == "Doubled SMS in less than 2 minutes."
    assert len(api.seen) == 1
    assert sleeps == []


def test_429_is_retried_after_the_retry_after_header(
    client: Client, api: FakeApi, sleeps: Sleeps
) -> None:
    api.script(top_level("Too Many Requests", "Rate limit exceeded.", 429, **{"Retry-After": "2"}))
    result = client.send(["380501234567"], "Hello", SENDER)
    assert len(result.accepted) == 1
    assert sleeps == [2.0]
    assert len(api.seen) == 2


def test_429_that_persists_raises_rate_limited_with_retry_after(
    client: Client, api: FakeApi, sleeps: Sleeps
) -> None:
    limited = top_level("Too Many Requests", "Rate limit exceeded.", 429, **{"Retry-After": "1"})
    api.script(limited, limited, limited, limited)
    with pytest.raises(RateLimitedError) as raised:
        client.balance()
    assert raised.value.retry_after == 1.0
    assert raised.value.status_code == 429
    assert sleeps == [1.0, 1.0, 1.0]
    assert len(api.seen) == 4


def test_5xx_is_retried_with_exponential_backoff(
    client: Client, api: FakeApi, sleeps: Sleeps
) -> None:
    api.script(
        top_level("Internal Server Error", "boom", 500),
        httpx.Response(502, text="<html>Bad Gateway</html>"),
    )
    assert client.senders() == [SENDER, "Info"]
    assert sleeps == [0.5, 1.0]


def test_5xx_that_persists_raises_server_error(
    client: Client, api: FakeApi, sleeps: Sleeps
) -> None:
    api.script(*[top_level("Internal Server Error", "boom", 500)] * 4)
    with pytest.raises(ServerError) as raised:
        client.balance()
    assert raised.value.status_code == 500
    assert raised.value.message == "boom"
    assert sleeps == [0.5, 1.0, 2.0]


def test_connection_errors_are_retried(client: Client, api: FakeApi, sleeps: Sleeps) -> None:
    api.script(httpx.ConnectError("connection refused"))
    assert client.balance().currency == "UAH"
    assert sleeps == [0.5]


def test_connection_errors_that_persist_raise_transport_error(
    client: Client, api: FakeApi, sleeps: Sleeps
) -> None:
    api.script(*[httpx.ConnectError("connection refused")] * 4)
    with pytest.raises(TransportError, match="connection refused") as raised:
        client.balance()
    assert raised.value.status_code is None
    assert len(sleeps) == 3


def test_timeouts_are_transport_errors_that_say_so(
    client: Client, api: FakeApi, sleeps: Sleeps
) -> None:
    api.script(*[httpx.ReadTimeout("read timed out")] * 4)
    with pytest.raises(TransportError, match="timed out"):
        client.balance()


def test_retries_can_be_turned_off(api: FakeApi, sleeps: Sleeps) -> None:
    api.script(top_level("Internal Server Error", "boom", 500))
    with (
        Client(
            "http://gateway.test", TOKEN, transport=api.transport(), retries=0, sleep=sleeps
        ) as c,
        pytest.raises(ServerError),
    ):
        c.balance()
    assert sleeps == []


def test_an_unknown_path_is_an_unexpected_response(api: FakeApi, sleeps: Sleeps) -> None:
    with (
        Client("http://gateway.test/wrong/", TOKEN, transport=api.transport(), sleep=sleeps) as c,
        pytest.raises(UnexpectedResponseError) as raised,
    ):
        c.balance()
    assert raised.value.status_code == 404
    assert sleeps == []


def test_a_base_url_with_a_path_prefix_keeps_it(api: FakeApi) -> None:
    with (
        Client("http://gateway.test/api", TOKEN, transport=api.transport()) as c,
        pytest.raises(UnexpectedResponseError),
    ):
        c.balance()
    assert api.seen[0].path == "/api/sms/balance"


def test_every_error_is_a_smsgate_error(client: Client, api: FakeApi) -> None:
    api.script(validation("message", "Message text is required"))
    with pytest.raises(SmsGateError):
        client.send(["380501234567"], "", SENDER)


def test_timeout_is_configurable() -> None:
    seen: list[dict[str, float | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"success_request": {"info": []}})

    with Client(
        "http://gateway.test", TOKEN, transport=httpx.MockTransport(handler), timeout=2.5
    ) as c:
        c.senders()
    assert seen[0]["read"] == 2.5
    assert seen[0]["connect"] == 2.5
