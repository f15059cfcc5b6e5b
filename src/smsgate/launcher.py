"""The `smsgate` command's entry point: starts smsgate.cli, or, when the server extra is not
installed (only the SDK and the `sms` client are), says how to install it instead of a traceback.

Imports nothing of the server itself at module level: it must run with only the base install.
"""

from __future__ import annotations

import sys

# Top-level modules only the server extra brings (pyproject's [project.optional-dependencies]).
SERVER_MODULES = frozenset(
    {
        "uvicorn",
        "uvloop",
        "orjson",
        "sqlalchemy",
        "alembic",
        "aiosqlite",
        "asyncpg",
        "phonenumbers",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "prometheus_client",
        "defusedxml",
    }
)
EXIT_NOT_INSTALLED = 3

HINT = (
    "smsgate: the gateway server is not installed ({missing} is missing).\n"
    "Install it with:  pip install 'smsgate[server]'  (from a checkout: pip install '.[server]').\n"
    "The SDK and the `sms` command work without it."
)


def missing_server_module(exc: ImportError) -> str | None:
    """The server-extra module whose absence raised `exc`, or None for any other import error."""
    top = (exc.name or "").split(".")[0]
    return top if top in SERVER_MODULES else None


def main() -> None:
    try:
        from smsgate.cli import main as cli_main
    except ImportError as exc:
        missing = missing_server_module(exc)
        if missing is None:
            raise
        print(HINT.format(missing=missing), file=sys.stderr)
        sys.exit(EXIT_NOT_INSTALLED)
    cli_main()
