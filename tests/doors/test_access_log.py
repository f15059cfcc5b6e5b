"""The HTTP doors' access log: one line per request on `smsgate.access` with the method, the
path (never its query, where the HTTP gateway carries token and password), the status, the
latency and the account once authenticated; nothing when it is switched off."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import httpx
import pytest

from smsgate.config import load_settings
from smsgate.doors.app import build_app
from smsgate.logs import JsonFormatter, fields_of

if TYPE_CHECKING:
    from tests.conftest import Stack


async def _no_health() -> dict[str, object]:
    return {"ok": True}


@pytest.fixture
async def logged(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(stack.gateway, _no_health, access=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://smsgate.test") as client:
        yield client


def _access(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "smsgate.access"]


async def test_each_request_is_one_line_with_its_account_status_and_latency(
    stack: Stack, logged: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    acct = await stack.account("380990000001")
    caplog.set_level(logging.INFO, "smsgate.access")
    r = await logged.post("/sms/balance", headers=acct.auth)
    assert r.status_code == 200
    r = await logged.post("/sms/balance", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    ok, refused = (fields_of(r) for r in _access(caplog))
    assert ok["method"] == "POST" and ok["path"] == "/sms/balance" and ok["status"] == 200
    assert ok["account"] == "380990000001" and isinstance(ok["ms"], float) and ok["ms"] >= 0
    assert refused["status"] == 401 and refused["account"] == "-"


async def test_the_query_with_token_and_password_never_reaches_the_log(
    stack: Stack, logged: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    acct = await stack.account("380990000002")
    caplog.set_level(logging.INFO, "smsgate.access")
    for path, secret in (("/http/getbalance.php", "password"), ("/token/getbalance.php", "token")):
        query = urlencode({"username": acct.login, secret: getattr(acct, secret)})
        r = await logged.get(f"{path}?{query}")
        assert r.status_code == 200
    records = _access(caplog)
    assert [fields_of(r)["path"] for r in records] == [
        "/http/getbalance.php",
        "/token/getbalance.php",
    ]
    text = "\n".join(JsonFormatter().format(r) for r in records)
    assert acct.password not in text and acct.token not in text and "?" not in text
    assert all(fields_of(r)["account"] == acct.login for r in records)


async def test_the_native_api_is_logged_with_its_account_and_status(
    stack: Stack, logged: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    acct = await stack.account("380990000003")
    caplog.set_level(logging.INFO, "smsgate.access")
    assert (await logged.get("/api/v1/balance", headers=acct.auth)).status_code == 200
    assert (await logged.get("/api/v1/balance?x=secret")).status_code == 401
    ok, refused = (fields_of(r) for r in _access(caplog))
    assert (ok["method"], ok["path"], ok["status"], ok["account"]) == (
        "GET",
        "/api/v1/balance",
        200,
        "380990000003",
    )
    assert (refused["path"], refused["status"], refused["account"]) == ("/api/v1/balance", 401, "-")


async def test_the_dashboard_is_logged_with_the_login_of_its_session(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    from smsgate.doors.app import DASHBOARD_PREFIX, Mount
    from smsgate.doors.dashboard.app import Dashboard
    from smsgate.doors.dashboard.session import SessionCodec
    from smsgate.gateway.operator_desk import OperatorDesk
    from smsgate.gateway.self_service import SelfService

    acct = await stack.account("380990000004")
    dashboard = Dashboard(
        stack.gateway,
        SelfService(stack.store, stack.gateway.accounts),
        OperatorDesk(stack.store, stack.gateway.accounts),
        SessionCodec(b"k" * 32),
        _no_health,
    )
    app = build_app(
        stack.gateway, _no_health, access=True, mounts=[Mount(DASHBOARD_PREFIX, dashboard)]
    )
    caplog.set_level(logging.INFO, "smsgate.access")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://smsgate.test") as client:
        page = await client.get("/dashboard/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None, page.text
        form = {"csrf": csrf.group(1), "login": acct.login, "password": acct.password}
        assert (await client.post("/dashboard/login", data=form)).status_code == 303
        assert (await client.get("/dashboard/messages")).status_code == 200
    first, login, messages = (fields_of(r) for r in _access(caplog))
    assert (first["path"], first["status"], first["account"]) == ("/dashboard/login", 200, "-")
    assert (login["method"], login["status"]) == ("POST", 303)
    assert (messages["path"], messages["status"]) == ("/dashboard/messages", 200)
    assert messages["account"] == acct.login
    text = "\n".join(JsonFormatter().format(r) for r in _access(caplog))
    assert acct.password not in text


async def test_off_by_default_and_when_switched_off(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    assert load_settings(None).log.access is False  # a line per request costs CPU: opt in
    caplog.set_level(logging.INFO, "smsgate.access")
    r = await stack.client.get("/health/live")  # the shared stack builds its app without access
    assert r.status_code == 200 and r.json() == {"live": True}
    assert _access(caplog) == []
