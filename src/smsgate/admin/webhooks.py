"""`smsgate admin webhooks add | list | remove | rotate-secret | enable | failed | redeliver |
attempts`: an account's webhook endpoints, the deliveries given up on them and every attempt
of one (per-message callbacks have theirs under `admin callbacks`).

A URL is checked here, before it is stored (http(s), at most 2,000 characters, no loopback or
private address unless `[callbacks] allow_private`); the transport checks every address again
when it connects. Secrets are signing keys the gateway must use, so they are stored as given
(not hashed) and printed only when made.
"""

from __future__ import annotations

import asyncio
import json as json_module
import time
from pathlib import Path
from typing import Annotated

import typer

from smsgate.admin.deliveries import attempt_rows, logins, print_attempts, wanted_ids, when
from smsgate.admin.errors import Refused
from smsgate.admin.lookup import credentials_of
from smsgate.admin.report import print_json, print_table, say
from smsgate.admin.store_session import (
    ConfigOption,
    JsonOption,
    LoginArgument,
    reports_refusals,
    run,
    settings_from,
)
from smsgate.store.interface import Store
from smsgate.store.records import (
    MESSAGE_STATUS,
    WEBHOOK_EVENT_TYPES,
    WEBHOOKS,
    DeadLetter,
    EndpointHealth,
    WebhookEndpoint,
)
from smsgate.webhooks.safe_transport import check_endpoint_url
from smsgate.webhooks.signing import BadWebhookSecret, new_secret, parse_secret
from smsgate.webhooks.url_safety import UnsafeUrl

app = typer.Typer(no_args_is_help=True, help="Webhook endpoints and their failed deliveries.")

IdArgument = Annotated[int, typer.Argument(help="The endpoint's id (see `webhooks list`)")]
EventsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--event",
        help=f"An event type to send, repeatable: {', '.join(WEBHOOK_EVENT_TYPES)} "
        f"(default {MESSAGE_STATUS})",
    ),
]
OptionalLogin = Annotated[str | None, typer.Argument(help="Only this account's (default all)")]


def checked_url(url: str, config: Path | None) -> str:
    allow_private = settings_from(config).callbacks.allow_private
    try:
        asyncio.run(check_endpoint_url(url, allow_private=allow_private))
    except UnsafeUrl as exc:
        hint = "" if allow_private else " (set [callbacks] allow_private to allow those)"
        private = "loopback" in str(exc) or "private" in str(exc)
        raise Refused(f"bad webhook URL: {exc}{hint if private else ''}") from None
    return url


def checked_events(events: list[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(events or [MESSAGE_STATUS]))
    unknown = [e for e in chosen if e not in WEBHOOK_EVENT_TYPES]
    if unknown:
        raise Refused(f"unknown event type {unknown[0]!r}; known: {', '.join(WEBHOOK_EVENT_TYPES)}")
    return chosen


async def endpoint_of(store: Store, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await store.webhook_endpoint(endpoint_id)
    if endpoint is None:
        raise Refused(f"no webhook endpoint {endpoint_id}")
    return endpoint


@app.command()
@reports_refusals
def add(
    login: LoginArgument,
    url: Annotated[str, typer.Argument(help="http(s) URL the events are POSTed to")],
    event: EventsOption = None,
    secret: Annotated[
        str | None,
        typer.Option("--secret", help="Use this whsec_ secret instead of a new one"),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Send the account's events to URL, signed with a secret printed here."""
    events = checked_events(event)
    checked_url(url, config)
    try:
        key = new_secret() if secret is None else parse_secret(secret)
    except BadWebhookSecret as exc:
        raise Refused(f"bad secret: {exc}") from None

    async def work(store: Store) -> WebhookEndpoint:
        account_id = (await credentials_of(store, login)).account.id
        return await store.add_webhook_endpoint(account_id, url, events, key.text, time.time())

    endpoint = run(config, work)
    say(f"webhook endpoint {endpoint.id} of {login!r}: {url} ({', '.join(events)})")
    say(f"signing secret (give it to the receiver): {key.text}")


@app.command("list")
@reports_refusals
def list_(
    login: OptionalLogin = None, config: ConfigOption = None, json: JsonOption = False
) -> None:
    """Endpoints, their event types and health (failing since, disabled and why)."""

    async def work(store: Store) -> tuple[list[WebhookEndpoint], dict[int, str]]:
        account_id = None if login is None else (await credentials_of(store, login)).account.id
        return await store.webhook_endpoints(account_id), await logins(store)

    endpoints, names = run(config, work)
    rows = [
        {
            "id": e.id,
            "login": names.get(e.account_id),
            "url": e.url,
            "events": list(e.event_types),
            "enabled": e.enabled,
            "rotating": e.old_secret is not None,
            "failing_since": when(e.failing_since),
            "disabled_at": when(e.disabled_at),
            "disabled_reason": e.disabled_reason,
        }
        for e in endpoints
    ]
    if json:
        print_json(rows)
        return
    print_table(
        "webhook endpoints",
        ["id", "login", "url", "events", "enabled", "rotating", "failing since", "disabled"],
        [
            [
                r["id"],
                r["login"],
                r["url"],
                " ".join(e.event_types),
                r["enabled"],
                r["rotating"],
                r["failing_since"],
                None if e.enabled else f"{r['disabled_at']}: {e.disabled_reason}",
            ]
            for r, e in zip(rows, endpoints, strict=True)
        ],
    )


@app.command()
@reports_refusals
def remove(endpoint_id: IdArgument, config: ConfigOption = None) -> None:
    """Stop sending to an endpoint; its pending deliveries become dead letters."""

    async def work(store: Store) -> None:
        if not await store.remove_webhook_endpoint(endpoint_id):
            raise Refused(f"no webhook endpoint {endpoint_id}")

    run(config, work)
    say(f"webhook endpoint {endpoint_id} removed")


@app.command("rotate-secret")
@reports_refusals
def rotate_secret(
    endpoint_id: IdArgument,
    finish: Annotated[
        bool,
        typer.Option("--finish", help="Stop signing with the old secret (the rotation is done)"),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Sign with a new secret and, until `--finish`, with the old one too, so the receiver
    can switch without missing an event."""
    fresh = new_secret()

    async def work(store: Store) -> None:
        endpoint = await endpoint_of(store, endpoint_id)
        if finish:
            if endpoint.old_secret is None:
                raise Refused(f"webhook endpoint {endpoint_id} is not in a rotation")
            await store.set_webhook_secrets(endpoint_id, endpoint.secret, None)
            return
        if endpoint.old_secret is not None:
            raise Refused(
                f"webhook endpoint {endpoint_id} is already rotating; finish it first "
                "(rotate-secret --finish) — at most two secrets sign at once"
            )
        await store.set_webhook_secrets(endpoint_id, fresh.text, endpoint.secret)

    run(config, work)
    if finish:
        say(f"webhook endpoint {endpoint_id} now signs with its new secret only")
        return
    say(f"webhook endpoint {endpoint_id} signs with both secrets until rotate-secret --finish")
    say(f"new signing secret (give it to the receiver): {fresh.text}")


@app.command()
@reports_refusals
def enable(endpoint_id: IdArgument, config: ConfigOption = None) -> None:
    """Enable an endpoint disabled after failing, and forget its failures."""

    async def work(store: Store) -> WebhookEndpoint:
        endpoint = await endpoint_of(store, endpoint_id)
        await store.set_webhook_health(endpoint_id, EndpointHealth(None, None, None, None))
        return endpoint

    endpoint = run(config, work)
    was = "was disabled" if not endpoint.enabled else "was not disabled"
    say(f"webhook endpoint {endpoint_id} is enabled ({was})")


def _described(letter: DeadLetter) -> dict[str, object]:
    try:
        payload = json_module.loads(letter.payload or "")
    except ValueError:
        payload = {}
    return {
        "id": letter.item_id,
        "endpoint": payload.get("endpoint"),
        "webhook_id": payload.get("id"),
        "type": payload.get("type"),
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
    """Deliveries given up (dead letters), oldest first, with their last error."""

    async def work(store: Store) -> tuple[list[DeadLetter], dict[int, str]]:
        account_id = None if login is None else (await credentials_of(store, login)).account.id
        return await store.dead_letters(WEBHOOKS, account_id, limit), await logins(store)

    letters, names = run(config, work)
    rows = [{**_described(d), "login": names.get(d.account_id)} for d in letters]
    if json:
        print_json(rows)
        return
    columns = ["id", "login", "endpoint", "webhook_id", "type", "dead_at", "attempts", "last_error"]
    print_table("failed webhook deliveries", columns, [[r[c] for c in columns] for r in rows])


@app.command()
@reports_refusals
def redeliver(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Dead letters' ids (see `webhooks failed`)")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every dead letter")] = False,
    config: ConfigOption = None,
) -> None:
    """Send dead letters again, with their webhook-id, from a fresh 24 h of retries."""
    named = wanted_ids(ids, all_)

    async def work(store: Store) -> tuple[list[int], list[int]]:
        wanted = named
        if all_:
            wanted = [d.item_id for d in await store.dead_letters(WEBHOOKS, None, 1_000_000)]
        letters = {d.item_id: d for d in await store.dead_letters(WEBHOOKS, None, 1_000_000)}
        disabled: list[int] = []
        for item_id in wanted:
            letter = letters.get(item_id)
            if letter is None:
                continue
            endpoint_id = _described(letter)["endpoint"]
            if isinstance(endpoint_id, int):
                endpoint = await store.webhook_endpoint(endpoint_id)
                if endpoint is not None and not endpoint.enabled:
                    disabled.append(endpoint_id)
        if disabled:
            raise Refused(
                f"webhook endpoint {disabled[0]} is disabled; enable it first "
                f"(webhooks enable {disabled[0]})"
            )
        done = await store.redeliver(WEBHOOKS, wanted, time.time())
        return wanted, done

    wanted, done = run(config, work)
    missing = sorted(set(wanted) - set(done))
    if missing:
        say(f"not dead letters (skipped): {', '.join(map(str, missing))}")
    say(f"redelivering {len(done)} webhook deliveries")


@app.command()
@reports_refusals
def attempts(
    item_id: Annotated[int, typer.Argument(help="A delivery's id (see `webhooks failed`)")],
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Every attempt of one delivery: when, the HTTP status (none: no answer), latency, error."""

    async def work(store: Store) -> list[dict[str, object]]:
        return await attempt_rows(store, item_id)

    print_attempts(item_id, run(config, work), json)
