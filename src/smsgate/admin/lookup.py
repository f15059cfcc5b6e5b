"""Finding the account an operator names by login; an unknown login is refused, not None.

Reads only; the commands decide what to change.
"""

from __future__ import annotations

from smsgate.admin.errors import Refused
from smsgate.store.records import AccountSummary, Credentials
from smsgate.store.roles import AccountAdmin


async def credentials_of(store: AccountAdmin, login: str) -> Credentials:
    creds = await store.credentials(login)
    if creds is None:
        raise Refused(f"unknown login {login!r}")
    return creds


async def summary_of(store: AccountAdmin, login: str) -> AccountSummary:
    # The interface has no one-account summary; admin listings are small enough to filter.
    for summary in await store.list_accounts():
        if summary.account.login == login:
            return summary
    raise Refused(f"unknown login {login!r}")
