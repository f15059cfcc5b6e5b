"""The `smsgate` command's entry point: starts smsgate.cli, or, when the server extra is not
installed (only the SDK and the `sms` client are), says how to install it instead of a traceback.

Imports nothing of the server itself at module level: it must run with only the base install.
"""

from __future__ import annotations

import importlib.util
import sys

# Top-level modules only the server extra brings (pyproject's [project.optional-dependencies]
# server, and what its entries pull in that the node imports: httptools is uvicorn[standard]'s
# parser, starlette is FastAPI's; tests/test_launcher.py checks every entry has its module).
SERVER_MODULES = frozenset(
    {
        "uvicorn",
        "httptools",
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
        "jinja2",
        "fastapi",
        "starlette",
    }
)
# Installed only where pyproject's markers ask for it.
_OPTIONAL_ON = {"uvloop": sys.platform != "win32"}
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


def absent_server_module() -> str | None:
    """The first server-extra module that is not installed, looked up without importing it:
    `serve` imports some of them (the dashboard's jinja2, the native API's fastapi) only when
    it starts a node, long after the command line was read."""
    for name in sorted(SERVER_MODULES):
        if not _OPTIONAL_ON.get(name, True):
            continue
        try:
            found = importlib.util.find_spec(name)
        except (ImportError, ValueError):  # a broken or half-removed install
            found = None
        if found is None:
            return name
    return None


def main() -> None:
    absent = absent_server_module()
    if absent is not None:
        print(HINT.format(missing=absent), file=sys.stderr)
        sys.exit(EXIT_NOT_INSTALLED)
    try:
        from smsgate.cli import main as cli_main
    except ImportError as exc:
        missing = missing_server_module(exc)
        if missing is None:
            raise
        print(HINT.format(missing=missing), file=sys.stderr)
        sys.exit(EXIT_NOT_INSTALLED)
    cli_main()
