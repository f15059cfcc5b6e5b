"""The dashboard's templates: Jinja2, autoescaped, with the filters pages share.

Jinja2 because its autoescaping makes every value HTML-safe unless a template says otherwise,
and template inheritance keeps one layout for all pages; it renders in microseconds, and it is
the one dependency the dashboard adds.
"""

from __future__ import annotations

import time
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from smsgate.domain.money import format_money

_env = Environment(
    loader=PackageLoader("smsgate.doors.dashboard", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(at: float | None) -> str:
    if at is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))


_env.filters["when"] = _when
_env.filters["money"] = format_money


def render(name: str, **context: Any) -> str:
    return _env.get_template(name).render(**context)
