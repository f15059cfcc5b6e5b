"""The demo account `make run` prints: a login, an API token, HTTP and SMPP passwords, a sender
name, money, a default tariff and a number of its own (inbound SMS to 7000 are its), so every
door, and inbound SMS, can be tried at once.

Secrets are stored only as hashes, so the plain ones are kept in a 0600 file beside the
database and reused while their hashes still match; otherwise fresh ones are issued.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Protocol

from smsgate.gateway.credentials import hash_password, hash_token, new_password, new_token
from smsgate.immutable import record
from smsgate.store.records import NumberRoute, Tariff
from smsgate.store.roles import AccountAdmin, Inbound

DEMO_LOGIN = "demo"
DEMO_SENDER = "smsgate"
# The demo's short code: the simulator's phones text it (`smsgate simulator send-mo PHONE 7000`);
# a message sent from it (once an admin allows the sender name) to the simulator's reply number
# (…0099) is answered to it.
DEMO_NUMBER = "7000"
DEMO_TOP_UP = 1000 * 10_000  # 1000.0000
DEMO_PRICE = 5_000  # 0.5000 per part


@record
class DemoCredentials:
    login: str
    token: str
    password: str
    smpp_password: str
    sender: str


class DemoStore(AccountAdmin, Inbound, Protocol):
    """What making the demo account touches: the account itself and its number."""


async def ensure_demo_account(store: DemoStore, secrets_file: Path) -> DemoCredentials:
    creds = await store.credentials(DEMO_LOGIN)
    saved = _load(secrets_file)
    if creds is None:
        account = await store.create_account(DEMO_LOGIN, rate_limit=0)
        await store.top_up(account.id, DEMO_TOP_UP)
        await store.add_originator(account.id, DEMO_SENDER)
        await store.set_tariff(Tariff(account_id=None, prefix="", price=DEMO_PRICE))
        saved = None
        account_id = account.id
    else:
        account_id = creds.account.id
        if saved is not None:
            token_ok = await store.account_by_token_hash(hash_token(saved.token))
            if token_ok is None or token_ok.id != account_id:
                saved = None
    # Also for a demo made before it had a number: the banner tells a newcomer to text it.
    if not any(r.number == DEMO_NUMBER for r in await store.number_routes()):
        await store.add_number(NumberRoute(DEMO_NUMBER, account_id))
    if saved is None:
        saved = DemoCredentials(
            login=DEMO_LOGIN,
            token=new_token(),
            password=new_password(),
            smpp_password=new_password(8),
            sender=DEMO_SENDER,
        )
        await store.set_token_hash(account_id, hash_token(saved.token))
        await store.set_password_hash(account_id, hash_password(saved.password))
        await store.set_smpp_password_hash(account_id, hash_password(saved.smpp_password))
        _save(secrets_file, saved)
    return saved


def _load(path: Path) -> DemoCredentials | None:
    try:
        return DemoCredentials(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _save(path: Path, creds: DemoCredentials) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(creds), fh)
    os.replace(tmp, path)
