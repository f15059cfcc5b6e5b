"""Reading recipient CSVs (with or without header, one text or one per row) and writing rejects."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from smsgate.client.csv_rows import (
    CsvError,
    Rejected,
    Row,
    read_recipients,
    write_accepted,
    write_rejected,
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_header_with_phone_and_message(tmp_path: Path) -> None:
    got = read_recipients(write(tmp_path / "a.csv", "phone,message\n380501,Hi\n380502,Yo\n"), None)
    assert got.rows == [Row(2, "380501", "Hi"), Row(3, "380502", "Yo")]
    assert not got.one_text


def test_columns_are_found_by_name_in_any_order(tmp_path: Path) -> None:
    got = read_recipients(write(tmp_path / "a.csv", "name,text,Phone\nAnn,Hi,380501\n"), None)
    assert got.rows == [Row(2, "380501", "Hi")]


def test_phones_only_take_the_one_text(tmp_path: Path) -> None:
    got = read_recipients(write(tmp_path / "a.csv", "phone\n380501\n380502\n"), "Hello")
    assert [r.message for r in got.rows] == ["Hello", "Hello"]
    assert got.one_text


def test_headerless_file_is_phone_then_message(tmp_path: Path) -> None:
    got = read_recipients(write(tmp_path / "a.csv", "380501,Hi\n380502,Yo\n"), None)
    assert got.rows == [Row(1, "380501", "Hi"), Row(2, "380502", "Yo")]


def test_rows_without_a_message_fall_back_to_the_text(tmp_path: Path) -> None:
    got = read_recipients(write(tmp_path / "a.csv", "phone,message\n380501,\n380502,Own\n"), "Def")
    assert [r.message for r in got.rows] == ["Def", "Own"]
    assert not got.one_text


def test_rows_without_phone_or_text_are_rejected_before_sending(tmp_path: Path) -> None:
    got = read_recipients(
        write(tmp_path / "a.csv", "phone,message\n,Hi\n380502,\n380503,Ok\n"), None
    )
    assert got.rows == [Row(4, "380503", "Ok")]
    assert [(r.row.line, r.reason) for r in got.rejected] == [
        (2, "no phone number"),
        (3, "no message text (and no --text)"),
    ]


def test_blank_lines_are_skipped_and_an_excel_bom_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "\ufeffphone\n\n380501\n,\n", encoding="utf-8")
    got = read_recipients(path, "Hi")
    assert got.rows == [Row(3, "380501", "Hi")]


def test_a_file_without_messages_needs_the_text(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match="--text"):
        read_recipients(write(tmp_path / "a.csv", "phone\n380501\n"), None)


def test_an_empty_or_binary_or_missing_file_is_a_csv_error(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match="no rows"):
        read_recipients(write(tmp_path / "e.csv", "\n\n"), "Hi")
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(CsvError, match="not UTF-8"):
        read_recipients(binary, "Hi")
    with pytest.raises(CsvError, match="cannot read"):
        read_recipients(tmp_path / "missing.csv", "Hi")


def test_rejected_rows_are_written_in_line_order_and_can_be_read_back(tmp_path: Path) -> None:
    out = tmp_path / "rejected.csv"
    count = write_rejected(
        out, [Rejected(Row(5, "2", "B"), "duplicate"), Rejected(Row(2, "1", "A, quoted"), "bad")]
    )
    assert count == 2
    with out.open() as file:
        rows = list(csv.DictReader(file))
    assert rows == [
        {"line": "2", "phone": "1", "message": "A, quoted", "reason": "bad"},
        {"line": "5", "phone": "2", "message": "B", "reason": "duplicate"},
    ]
    # The rejected file is itself a recipient list, ready to be sent again once fixed.
    assert [r.phone for r in read_recipients(out, None).rows] == ["1", "2"]


def test_accepted_ids_are_written_as_id_and_phone(tmp_path: Path) -> None:
    out = tmp_path / "accepted.csv"
    write_accepted(out, [("101", "380501"), ("102", "380502")])
    assert out.read_text().splitlines() == ["id,phone", "101,380501", "102,380502"]
