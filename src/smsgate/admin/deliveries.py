"""What `admin callbacks` and `admin webhooks` share about the deliveries of an HTTP transport:
times printed alike, the attempts logged for one delivery (status, latency, error), and which
named dead letters to send again.

It reads and redelivers through the store's roles; it never sends anything itself (the node's
pump does, from a fresh 24 h of retries).
"""

from __future__ import annotations

from datetime import UTC, datetime

from smsgate.admin.errors import Refused
from smsgate.admin.report import print_json, print_table
from smsgate.store.interface import Store


def when(at: float | None) -> str | None:
    if at is None:
        return None
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


async def logins(store: Store) -> dict[int, str]:
    return {s.account.id: s.account.login for s in await store.list_accounts()}


async def attempt_rows(store: Store, item_id: int) -> list[dict[str, object]]:
    """Every attempt logged for delivery `item_id`, oldest first."""
    attempts = await store.outbox_attempts(item_id)
    if not attempts:
        raise Refused(f"no attempts logged for delivery {item_id}")
    return [
        {
            "at": when(a.at),
            "status": a.status,
            "latency_ms": round(a.latency * 1000, 1),
            "error": a.error,
        }
        for a in attempts
    ]


def print_attempts(item_id: int, rows: list[dict[str, object]], json: bool) -> None:
    if json:
        print_json(rows)
        return
    columns = ["at", "status", "latency_ms", "error"]
    print_table(f"attempts of delivery {item_id}", columns, [[r[c] for c in columns] for r in rows])


def wanted_ids(ids: list[int] | None, all_: bool) -> list[int]:
    """The dead letters named on the command line; [] with --all (the caller lists them)."""
    if not ids and not all_:
        raise Refused("name the dead letters to redeliver, or --all")
    if ids and all_:
        raise Refused("name dead letters or give --all, not both")
    return list(ids or [])
