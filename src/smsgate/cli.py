"""`smsgate serve | simulator | admin …`: the command line that wires the rooms into one node."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from smsgate.config import ConfigError, Settings, demo_settings, load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


def _mount_optional() -> None:
    from smsgate.admin import app as admin_app
    from smsgate.simulator.cli import app as simulator_app

    app.add_typer(admin_app, name="admin", help="Manage accounts, money, senders and tariffs.")
    app.add_typer(simulator_app, name="simulator", help="Run the operator SMSC simulator.")


@app.command()
def serve(
    config: Annotated[Path | None, typer.Option(help="TOML configuration file")] = None,
    demo: Annotated[
        bool, typer.Option(help="Start the simulator as the only operator and a demo account")
    ] = False,
    port: Annotated[int | None, typer.Option(help="HTTP port (overrides the config)")] = None,
) -> None:
    """Run one smsgate node."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if demo:
        settings = demo_settings(settings)
    if port is not None:
        settings = settings.model_copy(
            update={"http": settings.http.model_copy(update={"port": port})}
        )
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    try:
        asyncio.run(_serve(settings, demo))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


async def _serve(settings: Settings, demo: bool) -> None:
    from smsgate.gateway.demo_account import ensure_demo_account
    from smsgate.node import Node

    node = Node(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # signal.signal, not loop.add_signal_handler: uvicorn swaps handlers with signal.signal while
    # it serves and re-raises the signal to the previous handler (this one) when it is done.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    await node.start()
    try:
        if demo:
            secrets_file = _state_dir(settings) / "demo-credentials.json"
            creds = await ensure_demo_account(node.store, secrets_file)
            _print_demo(settings, node.addresses.http_port, creds)
        print(
            f"smsgate listening on http://{settings.http.host}:{node.addresses.http_port}",
            flush=True,
        )
        await stop.wait()
    finally:
        await node.stop()


def _state_dir(settings: Settings) -> Path:
    url = settings.database.url
    if url.startswith("sqlite") and ":///" in url:
        return Path(url.split(":///", 1)[1]).parent
    return Path("var")


def _print_demo(settings: Settings, http_port: int, creds: object) -> None:
    from smsgate.gateway.demo_account import DemoCredentials

    assert isinstance(creds, DemoCredentials)
    base = f"http://{settings.http.host}:{http_port}"
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
                "Send an SMS:",
                f"  curl -s {base}/sms/send -H 'Authorization: Bearer {creds.token}' \\",
                "    -H 'Content-Type: application/json' \\",
                f'    -d \'{{"phone": ["380501234567"], "message": "Hello", '
                f'"src_addr": "{creds.sender}"}}\'',
                "Ask its status (put the id it answered):",
                f"  curl -s {base}/sms/status -H 'Authorization: Bearer {creds.token}' \\",
                '    -d \'{"id_sms": ["ID"]}\'',
                "",
            ]
        ),
        flush=True,
    )


def main() -> None:
    try:
        _mount_optional()
    except ImportError as exc:  # a room not installed: keep the rest usable
        print(f"warning: {exc}", file=sys.stderr)
    app()
