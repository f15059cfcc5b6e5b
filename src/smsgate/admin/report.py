"""How admin commands print: rich tables for people, JSON (one document on stdout) for scripts.

Cells are rendered as plain text, never as rich markup: a login like "[red]" stays itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(_cell(value)) for value in row))
    Console(soft_wrap=False).print(table)


def print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def say(line: str) -> None:
    """One plain line for the operator (ids, fresh secrets): no markup, no wrapping."""
    print(line, flush=True)


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "-"
    return str(value)
