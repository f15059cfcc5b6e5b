"""`smsgate admin connectors list`: the operator binds declared in the configuration, with the
bind state the running node reports on its /health endpoint, since when it holds, and the last
error (connect refused, bind refused with its command_status, dropped, throttled); a connector
another node binds is shown as held there. A node that is not running is a state to show
("node not reachable"), not an error.

Reads the config and one HTTP endpoint; never touches the store or the binds themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import typer

from smsgate.admin.report import print_json, print_table
from smsgate.admin.store_session import ConfigOption, JsonOption, settings_from
from smsgate.config import HttpSettings

app = typer.Typer(no_args_is_help=True, help="Operator connectors and their bind state.")

HEALTH_TIMEOUT = 2.0
NOT_REACHABLE = "node not reachable"
# A node listening on every address is reached on loopback.
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def health_url(http: HttpSettings) -> str:
    host = _WILDCARDS.get(http.host, http.host)
    if ":" in host:
        host = f"[{host}]"
    scheme = "http" if http.tls_cert is None else "https"
    return f"{scheme}://{host}:{http.port}/health"


def fetch_bind_states(url: str) -> dict[str, dict[str, Any]] | None:
    """The node's connectors by name, or None when the node does not answer usefully."""
    try:
        # The node's own listener, read without credentials: its certificate names the public
        # host, not the loopback address asked here, so it is not verified.
        response = httpx.get(url, timeout=HEALTH_TIMEOUT, verify=not url.startswith("https:"))
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    connectors = body.get("connectors") if isinstance(body, dict) else None
    if not isinstance(connectors, dict):
        return None
    return {str(k): v for k, v in connectors.items() if isinstance(v, dict)}


def _state(reported: dict[str, dict[str, Any]] | None, name: str) -> dict[str, object]:
    """The bind state, since when it holds, and the last error the node saw (why it is down,
    or what last went wrong while up)."""
    if reported is None:
        return {"state": NOT_REACHABLE, "since": None, "last_error": None}
    if name not in reported:
        return {"state": "not running on the node", "since": None, "last_error": None}
    info = reported[name]
    error = info.get("last_error")
    at = _when(info.get("last_error_at"))
    return {
        "state": "bound" if info.get("bound") is True else _unbound_here(info),
        "since": _when(info.get("since")),
        "last_error": f"{error} (at {at})" if error and at else error,
    }


def _unbound_here(info: dict[str, Any]) -> str:
    """Not bound by the node asked: another node may hold its lease and bind it there (two
    nodes, or `serve --workers N` where any worker answers /health)."""
    held = info.get("held_by")
    if not isinstance(held, dict):
        return "not bound"
    node = held.get("node_id")
    where = f"node {node}" if isinstance(node, int) else "another node"
    return f"held by {where} ({held.get('holder')})"


def _when(seconds: object) -> str | None:
    if not isinstance(seconds, int | float):
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@app.command("list")
def list_(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Declared connectors and whether the running node has them bound."""
    settings = settings_from(config)
    reported = fetch_bind_states(health_url(settings.http))
    rows: list[dict[str, object]] = [
        {
            "name": c.name,
            "address": f"{c.host}:{c.port}",
            "system_id": c.system_id,
            "bind_type": c.bind_type,
            "declared": True,
            **_state(reported, c.name),
        }
        for c in settings.connectors
    ]
    # The node may run connectors the file does not declare (the --demo simulator).
    declared = {c.name for c in settings.connectors}
    for name, info in sorted((reported or {}).items()):
        if name not in declared:
            rows.append(
                {
                    "name": name,
                    "address": f"{info.get('host', '?')}:{info.get('port', '?')}",
                    "system_id": None,
                    "bind_type": None,
                    "declared": False,
                    **_state(reported, name),
                }
            )
    if json:
        print_json(rows)
        return
    if not rows:
        print("no connectors declared in the configuration")
        return
    print_table(
        "connectors",
        ["name", "address", "system_id", "bind", "declared", "state", "since", "last error"],
        [list(r.values()) for r in rows],
    )
