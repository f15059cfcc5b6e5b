"""Whether an error means the database is in trouble (locked, full, unreachable, restarting)
rather than a bug: the doors answer it 503 with Retry-After in their own format, and log one
line instead of a traceback per request.

Decides nothing else: a bug (an integrity or programming error) is not trouble and still gets
the doors' 500 with its traceback.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa

from smsgate.store.interface import StoreError

# Seconds a client is told to wait before sending again.
RETRY_AFTER = 1


def _postgres_trouble() -> tuple[type[BaseException], ...]:
    try:
        from asyncpg import exceptions as pg  # type: ignore[import-untyped]
    except ImportError:  # the SQLite-only install
        return ()
    found: tuple[type[BaseException], ...] = (
        pg.PostgresConnectionError,  # cannot connect, connection lost
        pg.CannotConnectNowError,  # the server is starting up or shutting down
        pg.AdminShutdownError,  # "terminating connection due to administrator command"
        pg.CrashShutdownError,
        pg.TooManyConnectionsError,
        pg.InterfaceError,  # the connection is closed
    )
    return found


_TROUBLE: tuple[type[BaseException], ...] = (
    sqlite3.OperationalError,  # locked, disk full, I/O error
    OSError,  # connection refused or reset
    sa.TimeoutError,  # no pooled connection in time
    StoreError,
    *_postgres_trouble(),
)


# Every type is_store_trouble may say yes to by itself (not through a cause): what a framework
# registers its handler for, which then asks is_store_trouble about the error it got.
TROUBLE_TYPES: tuple[type[BaseException], ...] = (sa.DBAPIError, *_TROUBLE)


def is_store_trouble(error: BaseException) -> bool:
    """True for errors of a database that is not answering as it should (for now)."""
    if isinstance(error, sa.DBAPIError):
        if error.connection_invalidated or isinstance(
            error, sa.OperationalError | sa.InterfaceError
        ):
            return True
        # SQLAlchemy's asyncpg adapter hands over its own generic Error, raised from the
        # driver's: "the database system is shutting down" (PostgreSQL restarting) arrives as
        # a plain DBAPIError whose orig was caused by asyncpg's CannotConnectNowError.
        orig = error.orig
        return orig is not None and orig is not error and is_store_trouble(orig)
    if isinstance(error, _TROUBLE):
        return True
    cause = error.__cause__
    return cause is not None and cause is not error and is_store_trouble(cause)


def describe_error(error: BaseException) -> str:
    """One line for a log: the exception's type and first line, no traceback (a database in
    trouble fails every call the same way for as long as it lasts)."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
