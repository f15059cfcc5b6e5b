"""The node's log lines: JSON, logfmt or text, with each event's fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from smsgate.logs import setup_logging


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def emit(fmt: str, stream: io.StringIO) -> str:
    setup_logging(fmt, "INFO", stream)  # type: ignore[arg-type]
    logging.getLogger("smsgate.connector").warning(
        "connector %s: %s",
        "op b",
        'bind "refused"',
        extra={"event": "connector_bind_refused", "connector": "op b", "status": 14},
    )
    logging.getLogger("smsgate.quiet").debug("not written below INFO")
    return stream.getvalue()


def test_json_is_one_object_a_line_with_the_event_fields(restore_root: None) -> None:
    (line,) = emit("json", io.StringIO()).splitlines()
    record = json.loads(line)
    assert record["level"] == "warning"
    assert record["logger"] == "smsgate.connector"
    assert record["msg"] == 'connector op b: bind "refused"'
    assert record["event"] == "connector_bind_refused"
    assert record["connector"] == "op b" and record["status"] == 14
    assert record["time"].endswith("Z")


def test_logfmt_quotes_what_needs_quoting(restore_root: None) -> None:
    (line,) = emit("logfmt", io.StringIO()).splitlines()
    assert line.startswith("time=")
    assert " level=warning logger=smsgate.connector " in line
    assert 'msg="connector op b: bind \\"refused\\""' in line
    assert line.endswith('event=connector_bind_refused connector="op b" status=14')


def test_text_is_for_people_with_the_fields_after_the_message(restore_root: None) -> None:
    (line,) = emit("text", io.StringIO()).splitlines()
    assert 'WARNING smsgate.connector connector op b: bind "refused" event=' in line


def test_auto_is_json_when_not_a_terminal(restore_root: None) -> None:
    (line,) = emit("auto", io.StringIO()).splitlines()
    assert json.loads(line)["event"] == "connector_bind_refused"


def test_an_exception_stays_in_the_record(restore_root: None) -> None:
    stream = io.StringIO()
    setup_logging("json", "INFO", stream)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("x").exception("failed")
    record = json.loads(stream.getvalue())
    assert "ValueError: boom" in record["exc"]
