"""Recipients for a bulk send read from CSV (`phone,message` or just `phone`, with or without a
header row), and rejected rows written back as CSV with their reason.

Reads and writes files only; it never sends. Problems with the file itself raise `CsvError`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from smsgate.immutable import record

PHONE_HEADERS = ("phone", "phones", "to", "number")
MESSAGE_HEADERS = ("message", "text", "sms")


class CsvError(Exception):
    """The file cannot be used as a recipient list; the message says why."""


@record
class Row:
    line: int  # 1-based line in the file, for the rejected-rows report
    phone: str
    message: str


@record
class Rejected:
    row: Row
    reason: str


@dataclass(slots=True)
class Recipients:
    rows: list[Row]
    rejected: list[Rejected]  # rows refused before sending (no phone, no text)
    one_text: bool  # every row carries the same text (the --text), so /sms/send fits


def read_recipients(path: Path, text: str | None) -> Recipients:
    """Rows of `path`; a row without a message gets `text`. Without a message column `text` is
    required."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            records = [(n, cells) for n, cells in enumerate(csv.reader(file), 1)]
    except UnicodeDecodeError:
        raise CsvError(f"{path} is not UTF-8 text") from None
    except csv.Error as exc:
        raise CsvError(f"{path}: {exc}") from None
    except OSError as exc:
        raise CsvError(f"cannot read {path}: {exc.strerror or exc}") from None
    records = [(n, cells) for n, cells in records if any(cell.strip() for cell in cells)]
    if not records:
        raise CsvError(f"{path} has no rows")
    phone_at, message_at = 0, 1
    header = [cell.strip().lower() for cell in records[0][1]]
    if any(name in header for name in PHONE_HEADERS):
        phone_at = next(header.index(name) for name in PHONE_HEADERS if name in header)
        message_at = next((header.index(n) for n in MESSAGE_HEADERS if n in header), -1)
        records = records[1:]
    has_messages = message_at >= 0 and any(
        len(cells) > message_at and cells[message_at].strip() for _, cells in records
    )
    if not has_messages and not text:
        raise CsvError(f"{path} has no message column: give the text with --text")
    rows: list[Row] = []
    rejected: list[Rejected] = []
    for line, cells in records:
        phone = cells[phone_at].strip() if len(cells) > phone_at else ""
        message = cells[message_at] if has_messages and len(cells) > message_at else ""
        row = Row(line, phone, message if message.strip() else (text or ""))
        if not row.phone:
            rejected.append(Rejected(row, "no phone number"))
        elif not row.message.strip():
            rejected.append(Rejected(row, "no message text (and no --text)"))
        else:
            rows.append(row)
    return Recipients(rows, rejected, one_text=not has_messages)


def write_rejected(path: Path, rejected: Iterable[Rejected]) -> int:
    """Write `line,phone,message,reason` rows, ordered by line; returns how many."""
    ordered = sorted(rejected, key=lambda r: r.row.line)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["line", "phone", "message", "reason"])
        for item in ordered:
            writer.writerow([item.row.line, item.row.phone, item.row.message, item.reason])
    return len(ordered)


def write_accepted(path: Path, accepted: Iterable[tuple[str, str]]) -> None:
    """Write `id,phone` rows, ready for `sms status`."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "phone"])
        writer.writerows(accepted)
