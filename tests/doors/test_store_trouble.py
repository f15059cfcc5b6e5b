"""A database in trouble (locked, full, restarting) is answered 503 with Retry-After in each
door's own format and logged as one line; any other error stays the door's 500 with its
traceback."""

from __future__ import annotations

import logging
import sqlite3

import httpx
import pytest
from sqlalchemy import exc as sa

from smsgate.doors.app import DoorsApp
from smsgate.doors.web import Route, WebReply, WebRequest
from smsgate.gateway.store_trouble import is_store_trouble


def failing(error: Exception) -> DoorsApp:
    async def endpoint(request: WebRequest) -> WebReply:
        raise error

    return DoorsApp([Route(p, endpoint) for p in ("/sms/send", "/xml/", "/http/", "/token/")])


async def post(app: DoorsApp, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://door") as client:
        return await client.post(path)


async def test_each_door_answers_a_locked_database_with_503_in_its_own_format(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = failing(sqlite3.OperationalError("database is locked"))
    with caplog.at_level(logging.WARNING):
        json_door = await post(app, "/sms/send")
        xml_door = await post(app, "/xml/")
        http_door = await post(app, "/token/")
    for r in (json_door, xml_door, http_door):
        assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    body = json_door.json()
    assert (body["name"], body["status"]) == ("Service Unavailable", 503)
    assert "The database is not answering" in body["message"]
    assert xml_door.text.startswith("<?xml") and "<status>ERROR</status>" in xml_door.text
    assert http_door.text.startswith("The database is not answering")
    lines = [r for r in caplog.records if "database is not answering" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None  # one line, limited, no traceback
    assert "OperationalError: database is locked" in lines[0].getMessage()


async def test_a_bug_is_still_a_500_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    app = failing(KeyError("nope"))
    with caplog.at_level(logging.ERROR):
        r = await post(app, "/sms/send")
    assert r.status_code == 500
    assert any(rec.exc_info for rec in caplog.records)


def test_what_counts_as_the_database_in_trouble() -> None:
    assert is_store_trouble(sqlite3.OperationalError("database or disk is full"))
    assert is_store_trouble(ConnectionRefusedError())
    assert is_store_trouble(sa.OperationalError("SELECT 1", {}, Exception("closed")))
    assert not is_store_trouble(sa.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_store_trouble(ValueError("a bug"))
    wrapped = RuntimeError("accept failed")
    wrapped.__cause__ = sqlite3.OperationalError("database is locked")
    assert is_store_trouble(wrapped)


def test_postgresql_shutting_down_through_sqlalchemys_asyncpg_adapter_is_trouble() -> None:
    # What a node saw while PostgreSQL restarted under load (bench/reliability.py pgrestart):
    # the adapter's generic Error raised from asyncpg's, wrapped in a plain DBAPIError. It
    # was answered 500 with a traceback per request instead of 503.
    import asyncpg
    from asyncpg import exceptions as pg
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi

    adapted = AsyncAdapt_asyncpg_dbapi(asyncpg).Error("the database system is shutting down")
    adapted.__cause__ = pg.CannotConnectNowError("the database system is shutting down")
    assert is_store_trouble(sa.DBAPIError("connect", None, adapted))
    # The same adapter's error from a broken constraint stays a bug.
    adapted = AsyncAdapt_asyncpg_dbapi(asyncpg).Error("duplicate key value")
    adapted.__cause__ = pg.UniqueViolationError("duplicate key value")
    assert not is_store_trouble(sa.DBAPIError("INSERT", None, adapted))
