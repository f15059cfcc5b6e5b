"""`smsgate admin inbound unroutable`: inbound SMS no account took (their number belongs to no
account, or no keyword of a shared number starts them). They are kept, never dropped: give
the number to an account (`admin numbers add`) for the next ones.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from smsgate.admin.report import print_json, print_table
from smsgate.admin.store_session import ConfigOption, JsonOption, reports_refusals, run
from smsgate.store.interface import Store
from smsgate.store.records import InboundRecord

app = typer.Typer(no_args_is_help=True, help="Inbound SMS (MO) as the gateway kept them.")


@app.command()
@reports_refusals
def unroutable(
    after: Annotated[int, typer.Option(help="Only ids above this one")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many")] = 100,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Inbound SMS that no account took, oldest first."""

    async def work(store: Store) -> list[InboundRecord]:
        return await store.unroutable(after, limit)

    found = run(config, work)
    if json:
        print_json(
            [
                {
                    "id": m.id,
                    "from": m.source,
                    "to": m.destination,
                    "text": m.text,
                    "complete": m.complete,
                    "connector": m.connector,
                    "received_at": m.received_at,
                    "reason": m.reason,
                }
                for m in found
            ]
        )
        return
    print_table(
        "unroutable inbound SMS",
        ["id", "received", "from", "to", "text", "reason"],
        [[m.id, _when(m.received_at), m.source, m.destination, m.text, m.reason] for m in found],
    )


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")
