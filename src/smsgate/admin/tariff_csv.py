"""Reading a tariff file: CSV rows `prefix,price` with an optional `prefix,price` header. Every
bad row is reported with its line number, and a file with any bad row yields no tariffs at all,
so an import is all or nothing.

Pure: takes the file's text, returns rows or raises; no store.
"""

from __future__ import annotations

import csv
import io

from smsgate.admin.errors import Refused
from smsgate.admin.inputs import checked_prefix, checked_price, shown_prefix
from smsgate.immutable import record

HEADER = ("prefix", "price")


@record
class TariffRow:
    line: int
    prefix: str  # "" is the catch-all
    price: int


class BadTariffFile(Refused):
    """One or more rows cannot be imported; `problems` has one line per bad row."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} bad row(s), nothing imported")
        self.problems = problems


def read_tariff_csv(text: str) -> list[TariffRow]:
    rows: list[TariffRow] = []
    problems: list[str] = []
    first_line_of: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text))
    seen_any = False
    for cells in reader:
        line = reader.line_num
        # Spreadsheets pad rows with empty cells; they carry nothing.
        while cells and not cells[-1].strip():
            cells.pop()
        if not cells:
            continue
        if not seen_any:
            seen_any = True
            if tuple(c.strip().lower() for c in cells) == HEADER:
                continue
        if len(cells) != 2:
            problems.append(f"line {line}: expected 2 columns prefix,price, got {len(cells)}")
            continue
        try:
            prefix = checked_prefix(cells[0])
            price = checked_price(cells[1].strip())
        except Refused as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if prefix in first_line_of:
            problems.append(
                f"line {line}: prefix {shown_prefix(prefix)} is already on line"
                f" {first_line_of[prefix]}"
            )
            continue
        first_line_of[prefix] = line
        rows.append(TariffRow(line, prefix, price))
    if problems:
        raise BadTariffFile(problems)
    if not rows:
        raise Refused("the file has no tariff rows")
    return rows
