"""The one exception an admin command raises for input it cannot carry out (unknown login, bad
amount, bad prefix, ...): its message is what the operator reads, on one line, on stderr.

Nothing here prints; `store_session.run` turns it into the message and an exit code.
"""

from __future__ import annotations


class Refused(Exception):
    """The operator asked for something that cannot be done; str(exc) says what and why."""


class DatabaseUnavailable(Exception):
    """The configured database cannot be opened or answered with an error of its own."""
