"""`smsgate admin callbacks failed | redeliver | attempts`: per-message callbacks (a message's
dlr_url or callback_url) given up after 24 h of retries or refused by the receiver, sent
again, and every attempt of one with its HTTP status, latency and error.

Callbacks have their own commands beside `admin webhooks` because their dead letters say
other things (a message, its status, a URL the customer gave) and no endpoint owns them.
A URL is shown without its query: customers put their own tokens there.
"""

from __future__ import annotations

import json as json_module
import time
from typing import Annotated

import typer

from smsgate.admin.deliveries import attempt_rows, logins, print_attempts, wanted_ids, when
from smsgate.admin.lookup import credentials_of
from smsgate.admin.report import print_json, print_table, say
from smsgate.admin.store_session import ConfigOption, JsonOption, reports_refusals, run
from smsgate.store.interface import Store
from smsgate.store.records import CALLBACKS, DeadLetter

app = typer.Typer(
    no_args_is_help=True, help="Per-message callbacks that failed, and their attempts."
)

OptionalLogin = Annotated[str | None, typer.Argument(help="Only this account's (default all)")]
EVERY = 1_000_000


def _described(letter: DeadLetter) -> dict[str, object]:
    try:
        target = json_module.loads(letter.payload or "")
    except ValueError:
        target = {}
    url = str(target.get("url", ""))
    return {
        "id": letter.item_id,
        "message": None if letter.message_id is None else str(letter.message_id),
        "status": letter.status,
        "method": target.get("method"),
        "url": url.split("?", 1)[0],
        "dead_at": when(letter.dead_at),
        "attempts": letter.attempts,
        "last_error": letter.last_error,
    }


@app.command()
@reports_refusals
def failed(
    login: OptionalLogin = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many")] = 100,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Callbacks given up (dead letters), oldest first, with their last error."""

    async def work(store: Store) -> tuple[list[DeadLetter], dict[int, str]]:
        account_id = None if login is None else (await credentials_of(store, login)).account.id
        return await store.dead_letters(CALLBACKS, account_id, limit), await logins(store)

    letters, names = run(config, work)
    rows = [{**_described(d), "login": names.get(d.account_id)} for d in letters]
    if json:
        print_json(rows)
        return
    columns = [
        "id", "login", "message", "status", "method", "url", "dead_at", "attempts", "last_error"
    ]  # fmt: skip
    print_table("failed callbacks", columns, [[r[c] for c in columns] for r in rows])


@app.command()
@reports_refusals
def redeliver(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Dead letters' ids (see `callbacks failed`)")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every dead letter")] = False,
    config: ConfigOption = None,
) -> None:
    """Send dead letters again (the same form), from a fresh 24 h of retries."""
    named = wanted_ids(ids, all_)

    async def work(store: Store) -> tuple[list[int], list[int]]:
        wanted = named or [d.item_id for d in await store.dead_letters(CALLBACKS, None, EVERY)]
        return wanted, await store.redeliver(CALLBACKS, wanted, time.time())

    wanted, done = run(config, work)
    missing = sorted(set(wanted) - set(done))
    if missing:
        say(f"not dead letters (skipped): {', '.join(map(str, missing))}")
    say(f"redelivering {len(done)} callbacks")


@app.command()
@reports_refusals
def attempts(
    item_id: Annotated[int, typer.Argument(help="A delivery's id (see `callbacks failed`)")],
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Every attempt of one callback: when, the HTTP status (none: no answer), latency, error."""

    async def work(store: Store) -> list[dict[str, object]]:
        return await attempt_rows(store, item_id)

    print_attempts(item_id, run(config, work), json)
