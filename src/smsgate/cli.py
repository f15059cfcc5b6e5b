"""`smsgate serve | simulator | admin …`: the command line that wires the rooms into one node."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from smsgate.config import (
    DEMO_CONTROL_PORT,
    ConfigError,
    Settings,
    demo_settings,
    load_settings,
)
from smsgate.config_warnings import config_warnings
from smsgate.event_loop import install_uvloop
from smsgate.logs import setup_logging

log = logging.getLogger("smsgate.cli")
app = typer.Typer(no_args_is_help=True, help=__doc__)


def _mount_optional() -> None:
    from smsgate.admin import app as admin_app
    from smsgate.config_commands import app as config_app
    from smsgate.simulator.cli import app as simulator_app

    app.add_typer(
        admin_app, name="admin", help="Manage accounts, money, senders, tariffs and webhooks."
    )
    app.add_typer(config_app, name="config", help="Check, show and document the configuration.")
    app.add_typer(simulator_app, name="simulator", help="Run the operator SMSC simulator.")


@app.command()
def serve(
    config: Annotated[Path | None, typer.Option(help="TOML configuration file")] = None,
    demo: Annotated[
        bool, typer.Option(help="Start the simulator as the only operator and a demo account")
    ] = False,
    port: Annotated[int | None, typer.Option(help="HTTP port (overrides the config)")] = None,
    workers: Annotated[
        str, typer.Option(help="Node processes on this machine: a number, or auto (one per core)")
    ] = "1",
) -> None:
    """Run one smsgate node, or --workers N nodes sharing the ports and the database."""
    from smsgate.workers import worker_count

    try:
        settings = load_settings(config)
        count = worker_count(workers)
    except (ConfigError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    setup_logging(settings.log.format, settings.log.level)
    for warning in config_warnings(settings):
        log.warning("%s", warning, extra={"event": "config_warning"})
    if port is not None:
        settings = settings.model_copy(
            update={"http": settings.http.model_copy(update={"port": port})}
        )
    if count > 1:
        try:
            code = _supervise(settings, count, demo)
        except OSError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        raise typer.Exit(code)
    if demo:
        settings = demo_settings(settings)
        if settings.simulator.control_port is None:  # so `simulator send-mo` works at once
            sim = settings.simulator.model_copy(update={"control_port": DEMO_CONTROL_PORT})
            settings = settings.model_copy(update={"simulator": sim})
    install_uvloop()
    try:
        code = asyncio.run(_serve(settings, demo))
    except KeyboardInterrupt:
        code = 0
    except OSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if code:
        raise typer.Exit(code)


def _supervise(settings: Settings, count: int, demo: bool) -> int:
    """Workers under one supervisor; with --demo the simulator and the demo account are the
    parent's, made once, so that workers do not race for the simulator's port."""
    from smsgate.workers import Supervisor

    if not demo:
        return Supervisor(settings, count).run()
    from smsgate.simulator.config import SimulatorConfig
    from smsgate.simulator.running import SimulatorThread

    settings = demo_settings(settings)
    sim = settings.simulator
    if not sim.enabled:  # operators are configured: only the demo account is the parent's
        asyncio.run(_demo_account(settings))
        return Supervisor(settings, count).run()
    thread = SimulatorThread(
        SimulatorConfig(
            host=sim.host,
            port=sim.port,
            credentials=[(sim.system_id, sim.password)],
            receipt_delay=sim.receipt_delay,
        )
    )
    thread.start()
    try:
        asyncio.run(_demo_account(settings))
        workers = settings.model_copy(
            update={"simulator": sim.model_copy(update={"enabled": False})}
        )
        return Supervisor(workers, count).run()
    finally:
        thread.stop()


async def _demo_account(settings: Settings) -> None:
    from smsgate.gateway.demo_account import ensure_demo_account
    from smsgate.store.sql_store import SqlStore

    store = SqlStore(settings.database.url, synchronous=settings.database.synchronous)
    await store.open()
    try:
        creds = await ensure_demo_account(store, _state_dir(settings) / "demo-credentials.json")
    finally:
        await store.close()
    _print_demo(settings, settings.http.port, creds)


async def _serve(settings: Settings, demo: bool) -> int:
    from smsgate.node import Node, serve

    async def print_demo(node: Node) -> None:
        from smsgate.gateway.demo_account import ensure_demo_account

        secrets_file = _state_dir(settings) / "demo-credentials.json"
        creds = await ensure_demo_account(node.store, secrets_file)
        _print_demo(settings, node.addresses.http_port, creds)

    return await serve(settings, started=print_demo if demo else None)


def _state_dir(settings: Settings) -> Path:
    from smsgate.config import state_dir

    return state_dir(settings)


def _print_demo(settings: Settings, http_port: int, creds: object) -> None:
    from smsgate.gateway.demo_account import DemoCredentials

    assert isinstance(creds, DemoCredentials)
    scheme = "http" if settings.http.tls_cert is None else "https"
    base = f"{scheme}://{settings.http.host}:{http_port}"
    print(
        "\n".join(
            [
                "",
                "smsgate demo account",
                f"  login:         {creds.login}",
                f"  API token:     {creds.token}",
                f"  HTTP password: {creds.password}",
                f"  SMPP password: {creds.smpp_password}  (port {settings.smpp.port})",
                f"  sender name:   {creds.sender}",
                "",
                f"Dashboard: {base}/dashboard/  (log in as {creds.login} / {creds.password})",
                "",
                "Send an SMS:",
                f"  curl -s {base}/sms/send -H 'Authorization: Bearer {creds.token}' \\",
                "    -H 'Content-Type: application/json' \\",
                f'    -d \'{{"phone": ["380501234567"], "message": "Hello", '
                f'"src_addr": "{creds.sender}"}}\'',
                "Ask its status (put the id it answered):",
                f"  curl -s {base}/sms/status -H 'Authorization: Bearer {creds.token}' \\",
                '    -d \'{"id_sms": ["ID"]}\'',
                *_two_way_lines(settings, base, creds.token, creds.sender),
                "",
            ]
        ),
        flush=True,
    )


def _two_way_lines(settings: Settings, base: str, token: str, sender: str) -> list[str]:
    """How to see a delivery report pushed and an inbound SMS arrive, on this one machine."""
    from smsgate.gateway.demo_account import DEMO_NUMBER

    lines = [
        "Have a delivery report pushed to you (callback_url; dlr_url on the HTTP gateway):",
        "  .venv/bin/python examples/webhooks/receiver.py --port 9000 &",
        f"  curl -s {base}/sms/send -H 'Authorization: Bearer {token}' \\",
        "    -H 'Content-Type: application/json' \\",
        f'    -d \'{{"phone": ["380501234567"], "message": "Hello", "src_addr": "{sender}", '
        '"callback_url": "http://127.0.0.1:9000/callback"}\'',
    ]
    control = settings.simulator.control_port
    if settings.simulator.enabled and control is not None:
        where = "" if control == DEMO_CONTROL_PORT else f" --control http://127.0.0.1:{control}"
        lines += [
            f"Receive an SMS: a phone of the simulator texts the demo's number {DEMO_NUMBER}:",
            f"  .venv/bin/smsgate simulator send-mo{where} 380501112233 {DEMO_NUMBER} 'Hi'",
            f"  curl -s '{base}/api/v1/inbound?after=0' -H 'Authorization: Bearer {token}'",
        ]
    return lines


def main() -> None:
    try:
        _mount_optional()
    except ImportError as exc:  # a room not installed: keep the rest usable
        print(f"warning: {exc}", file=sys.stderr)
    app()
