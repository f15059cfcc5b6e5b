"""The node's log lines: one record per event, written as JSON, logfmt or text (text on a
terminal). Events carry their facts as `extra={...}` fields (connector, reason, status, …) so
a collector can filter on them; the message stays readable on its own.

It formats; it never decides what is logged, and secrets are kept out by the callers (a test
greps a full run's log for the demo secrets).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import IO, Any, Literal

import orjson

Format = Literal["auto", "json", "logfmt", "text"]

# Attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The event's own fields (those given with `extra=`), in the order they were given."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


def _event(record: logging.LogRecord, formatter: logging.Formatter) -> dict[str, Any]:
    """The record as the machine formats write it: time, level, logger, msg, the event's
    fields, and the traceback last."""
    event: dict[str, Any] = {
        "time": _timestamp(record),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    event.update(fields_of(record))
    if record.exc_info:
        event["exc"] = formatter.formatException(record.exc_info)
    return event


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, msg, then the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = _event(record, self)
        # orjson: the access log writes one line per request, and json.dumps was most of it.
        try:
            return orjson.dumps(line, default=str).decode("utf-8")
        except TypeError:  # what orjson refuses (an int past 64 bits, a non-str key)
            return json.dumps(line, default=str, ensure_ascii=False)


def _logfmt_value(value: object) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\\\n\t'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class LogfmtFormatter(logging.Formatter):
    """`key=value` pairs a line, the shape Loki and Heroku-style collectors read."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={_logfmt_value(v)}" for k, v in _event(record, self).items())


class TextFormatter(logging.Formatter):
    """For people at a terminal: time, level, logger, message, then the fields as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = fields_of(record)
        if not extra:
            return line
        head, _, tail = line.partition("\n")  # keep a traceback below the fields
        suffix = " ".join(f"{k}={_logfmt_value(v)}" for k, v in extra.items())
        return f"{head} {suffix}" + (f"\n{tail}" if tail else "")


def formatter_for(fmt: Format, stream: IO[str]) -> logging.Formatter:
    if fmt == "auto":
        fmt = "text" if _is_terminal(stream) else "json"
    if fmt == "json":
        return JsonFormatter()
    if fmt == "logfmt":
        return LogfmtFormatter()
    return TextFormatter()


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def setup_logging(fmt: Format = "auto", level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Route every logger of the process to one handler on `stream` (stderr by default),
    replacing what was there: called once per process, by the command or the worker."""
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_for(fmt, stream))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
