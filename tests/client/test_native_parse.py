"""Native JSON bodies read into typed values: money as Decimal, times as aware datetimes, ids as
strings whatever JSON type they came as, and a broken shape as UnexpectedResponseError."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from smsgate.client.account_models import LedgerEntry, UsageRow
from smsgate.client.errors import UnexpectedResponseError
from smsgate.client.models import Status
from smsgate.client.native_parse import (
    parse_event_page,
    parse_failed_deliveries,
    parse_ledger_page,
    parse_message,
    parse_sent,
    parse_usage,
    parse_webhook,
)

SENT = {
    "messages": [
        {
            "id": "17",
            "to": "0501234567",
            "number": "380501234567",
            "client_ref": None,
            "status": "ENROUTE",
            "encoding": "UCS-2",
            "parts": 2,
            "characters": 75,
            "price": "1.4000",
        }
    ],
    "send_at": "2026-12-07T10:00:00Z",
    "rejected": [],
    "total_price": "1.4000",
    "currency": "UAH",
    "balance": "98.6000",
}


def test_a_send_answer() -> None:
    sent = parse_sent(SENT)
    assert sent.ids == ["17"] and sent.messages[0].price == Decimal("1.4000")
    assert sent.messages[0].status is Status.ENROUTE and sent.messages[0].number == "380501234567"
    assert sent.send_at == datetime(2026, 12, 7, 10, tzinfo=UTC)
    assert (sent.total_price, sent.balance) == (Decimal("1.4"), Decimal("98.6"))


def test_a_message_with_its_parts() -> None:
    message = parse_message(
        {
            "id": "17",
            "to": "380501234567",
            "sender": "Shop",
            "status": "DELIVRD",
            "created_at": "2026-12-07T10:00:00+02:00",
            "done_at": "2026-12-07T08:00:05Z",
            "error": 0,
            "price": "0.70",
            "currency": "UAH",
            "parts": [
                {
                    "seq": 1,
                    "status": "DELIVRD",
                    "state": "DELIVRD",
                    "operator_id": "ab12",
                    "price": "0.70",
                    "submitted_at": "2026-12-07T08:00:01Z",
                    "done_at": "2026-12-07T08:00:05Z",
                    "error": 0,
                }
            ],
        }
    )
    assert message.is_final and message.parts[0].operator_id == "ab12"
    assert message.created_at == datetime(2026, 12, 7, 8, tzinfo=UTC)
    assert message.events == ()  # a server without the timeline


def test_a_message_with_its_timeline() -> None:
    message = parse_message(
        {
            "id": "17",
            "to": "380501234567",
            "sender": "Shop",
            "status": "UNDELIV",
            "created_at": "2026-12-07T08:00:00Z",
            "done_at": "2026-12-07T08:00:05Z",
            "error": 11,
            "price": "0.70",
            "currency": "UAH",
            "parts": [],
            "events": [
                {
                    "at": "2026-12-07T08:00:00Z",
                    "type": "accepted",
                    "part": None,
                    "operator_id": None,
                    "error": None,
                },
                {
                    "at": "2026-12-07T08:00:01Z",
                    "type": "submitted",
                    "part": 1,
                    "operator_id": "ab12",
                    "error": None,
                },
                {
                    "at": "2026-12-07T08:00:05Z",
                    "type": "undelivered",
                    "part": 1,
                    "operator_id": None,
                    "error": 11,
                },
            ],
        }
    )
    assert [(e.type, e.part, e.operator_id, e.error) for e in message.events] == [
        ("accepted", None, None, None),
        ("submitted", 1, "ab12", None),
        ("undelivered", 1, None, 11),
    ]
    assert message.events[2].at == datetime(2026, 12, 7, 8, 0, 5, tzinfo=UTC)


def test_ledger_lines_signed_with_the_balance_after_and_the_cursor() -> None:
    page = parse_ledger_page(
        {
            "entries": [
                {
                    "type": "charge",
                    "amount": "-0.70",
                    "at": "2026-12-07T08:00:00Z",
                    "message_id": "17",
                    "balance_after": "99.30",
                },
                {
                    "type": "top_up",
                    "amount": "100.00",
                    "at": "2026-12-01T08:00:00Z",
                    "message_id": None,
                    "balance_after": "100.00",
                },
            ],
            "currency": "UAH",
            "next_cursor": "x",
        }
    )
    assert page.entries == [
        LedgerEntry(
            "charge",
            Decimal("-0.70"),
            datetime(2026, 12, 7, 8, tzinfo=UTC),
            "17",
            Decimal("99.30"),
        ),
        LedgerEntry(
            "top_up", Decimal(100), datetime(2026, 12, 1, 8, tzinfo=UTC), None, Decimal(100)
        ),
    ]
    assert (page.next_cursor, page.currency) == ("x", "UAH")


def test_usage_in_the_agreed_shape() -> None:
    usage = parse_usage(
        {
            "from": "2026-12-01",
            "to": "2026-12-07",
            "group": "day",
            "rows": [{"key": "2026-12-07", "messages": 3, "parts": 4, "cost": "1.20"}],
            "total": {"messages": 3, "parts": 4, "cost": "1.20"},
        }
    )
    assert (usage.start, usage.end, usage.group) == (date(2026, 12, 1), date(2026, 12, 7), "day")
    assert usage.rows == [UsageRow("2026-12-07", 3, 4, Decimal("1.20"))]
    assert usage.total == UsageRow("total", 3, 4, Decimal("1.20"))


def test_events_with_epoch_times_and_numeric_ids() -> None:
    page = parse_event_page(
        {
            "events": [
                {
                    "seq": 5,
                    "type": "receipt",
                    "at": 1796630400.5,
                    "message_id": 17,
                    "part_id": 21,
                    "data": {"stat": "DELIVRD", "err": 0},
                }
            ],
            "next_after": 5,
        }
    )
    [event] = page.events
    assert (event.message_id, event.part_id, event.at.tzinfo) == ("17", "21", UTC)
    assert page.next_after == 5


@pytest.mark.parametrize(
    "broken",
    [
        {**SENT, "balance": "lots"},
        {**SENT, "balance": "NaN"},
        {**SENT, "messages": "17"},
        {**SENT, "messages": [{**SENT["messages"][0], "status": "LOST"}]},  # type: ignore[index]
        {**SENT, "messages": [{**SENT["messages"][0], "parts": True}]},  # type: ignore[index]
        {**SENT, "send_at": "tomorrow"},
        {k: v for k, v in SENT.items() if k != "currency"},
    ],
)
def test_a_broken_shape_is_an_unexpected_response(broken: dict[str, object]) -> None:
    with pytest.raises(UnexpectedResponseError):
        parse_sent(broken)


def test_a_webhook_with_its_secret_and_a_failed_delivery() -> None:
    hook = parse_webhook(
        {
            "id": "3",
            "url": "https://example.com/h",
            "events": ["message.status"],
            "enabled": True,
            "rotating": False,
            "created_at": "2026-12-07T08:00:00Z",
            "failing_since": None,
            "disabled_at": None,
            "disabled_reason": None,
            "secret": "whsec_abc",
        }
    )
    [failed] = parse_failed_deliveries(
        {
            "deliveries": [
                {
                    "id": "9",
                    "endpoint_id": "3",
                    "webhook_id": "msg_1",
                    "type": "message.status",
                    "created_at": "2026-12-07T08:00:00Z",
                    "dead_at": "2026-12-08T08:00:00Z",
                    "attempts": 12,
                    "last_error": "HTTP 500",
                }
            ]
        }
    )
    assert (hook.id, hook.events, hook.secret) == ("3", ("message.status",), "whsec_abc")
    assert (failed.id, failed.endpoint_id, failed.attempts) == ("9", "3", 12)
