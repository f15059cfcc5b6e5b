"""Each error kind has its own exit code, and `describe` lists them all."""

from __future__ import annotations

from smsgate.client.errors import (
    AuthenticationError,
    DuplicateError,
    RateLimitedError,
    ServerError,
    SmsGateError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)
from smsgate.client.exit_codes import MEANINGS, ExitCode, describe, exit_code_for


def test_every_error_kind_maps_to_a_distinct_non_zero_code() -> None:
    errors = [
        AuthenticationError("x", 401),
        ValidationError("x", 400),
        DuplicateError("x", 453),
        RateLimitedError("x", 429),
        ServerError("x", 500),
        TransportError("x"),
        UnexpectedResponseError("x", 404),
    ]
    codes = [exit_code_for(error) for error in errors]
    assert len(set(codes)) == len(codes)
    assert ExitCode.OK not in codes
    assert ExitCode.USAGE not in codes  # 2 stays click's usage error


def test_the_base_error_falls_back_to_internal() -> None:
    assert exit_code_for(SmsGateError("x")) is ExitCode.INTERNAL


def test_describe_lists_every_code_with_its_meaning() -> None:
    text = describe()
    assert set(MEANINGS) == set(ExitCode)
    for code, meaning in MEANINGS.items():
        assert f"**{int(code)}** {meaning}" in text
