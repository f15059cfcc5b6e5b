"""`smsgate simulator` / `python -m smsgate.simulator`: run the operator simulator until Ctrl-C.

Only turns options into a SimulatorConfig and runs it; the behaviour lives in handler.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Annotated

import typer

from smsgate import process_tuning
from smsgate.config import DEMO_CONTROL_PORT
from smsgate.event_loop import install_uvloop
from smsgate.simulator.config import DEFAULT_CREDENTIALS, SimulatorConfig
from smsgate.simulator.control import control_server
from smsgate.simulator.faults import Faults, parse_faults
from smsgate.simulator.outcomes import parse_mix
from smsgate.simulator.running import running_simulator

app = typer.Typer(add_completion=False, invoke_without_command=True, help=__doc__)


def _credentials(
    system_ids: list[str], passwords: list[str], pairs: list[str]
) -> list[tuple[str, str]]:
    if len(system_ids) != len(passwords):
        raise typer.BadParameter("give one --password per --system-id")
    creds = list(zip(system_ids, passwords, strict=True))
    for pair in pairs:
        system_id, sep, password = pair.partition(":")
        if not sep or not system_id:
            raise typer.BadParameter(f"credential {pair!r} is not SYSTEM_ID:PASSWORD")
        creds.append((system_id, password))
    return creds or list(DEFAULT_CREDENTIALS)


@app.callback()
def run(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="SMPP port (0: any free port)")] = 2776,
    system_id: Annotated[
        list[str] | None, typer.Option("--system-id", help="Accepted system_id (repeatable)")
    ] = None,
    password: Annotated[
        list[str] | None, typer.Option("--password", help="Its password, in the same order")
    ] = None,
    credential: Annotated[
        list[str] | None,
        typer.Option("--credential", help="SYSTEM_ID:PASSWORD (repeatable)"),
    ] = None,
    receipt_delay: Annotated[float, typer.Option(help="Seconds until each receipt")] = 0.5,
    mix: Annotated[
        str, typer.Option(help="Outcome mix for ordinary numbers, e.g. DELIVRD=0.9,UNDELIV=0.1")
    ] = "DELIVRD=1",
    message_ids: Annotated[str, typer.Option(help="decimal or hex")] = "decimal",
    throttle_tps: Annotated[
        int | None, typer.Option(help="Answer ESME_RTHROTTLED above this many submits/s a bind")
    ] = None,
    drop_after: Annotated[
        int | None, typer.Option(help="Drop the connection instead of answering submit N+1")
    ] = None,
    never_answer: Annotated[bool, typer.Option(help="Leave every submit unanswered")] = False,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help="NAME=VALUE, repeatable: throttle_rate, queue_full_rate, lost_rate,"
            " malformed_rate, slow_rate, slow_delay, early_receipt_rate, unknown_receipt_rate,"
            " refuse_binds, bind_refused_status",
        ),
    ] = None,
    control_port: Annotated[
        int | None,
        typer.Option(help="Serve GET/POST /faults and GET /counters on this port (loopback)"),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for the outcome mix")] = None,
) -> None:
    """Run an operator SMSC simulator. Destinations ending 0001 UNDELIV, 0002 EXPIRED,
    0003 REJECTD, 0004 throttled, 0005 submit fails, 0006 slow receipt, 0007 no receipt,
    0099 a reply comes back as an inbound SMS."""
    if ctx.invoked_subcommand is not None:
        return  # `simulator send-mo …` talks to a running simulator
    if message_ids not in ("decimal", "hex"):
        raise typer.BadParameter("--message-ids is decimal or hex")
    try:
        outcome_mix = parse_mix(mix)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    try:
        changes = parse_faults(",".join(fault or []))
        if "drop_after" in changes or "never_answer" in changes:
            raise ValueError("use --drop-after and --never-answer for those")
        faults = Faults().changed(**changes)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fault") from None
    config = SimulatorConfig(
        host=host,
        port=port,
        credentials=_credentials(system_id or [], password or [], credential or []),
        receipt_delay=receipt_delay,
        mix=outcome_mix,
        message_ids="hex" if message_ids == "hex" else "decimal",
        throttle_tps=throttle_tps,
        drop_after=drop_after,
        never_answer=never_answer,
        faults=faults,
        seed=seed,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    install_uvloop()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(config, control_port))


async def _serve(config: SimulatorConfig, control_port: int | None) -> None:
    async with running_simulator(config) as sim, contextlib.AsyncExitStack() as stack:
        users = ", ".join(system_id for system_id, _ in config.credentials)
        typer.echo(f"SMPP simulator listening on {config.host}:{sim.port} (system_id: {users})")
        if control_port is not None:
            control = await stack.enter_async_context(
                control_server(sim, config.host, control_port)
            )
            where = control.sockets[0].getsockname()
            typer.echo(f"control on http://{where[0]}:{where[1]}/faults and /counters")
        # As a node does: the startup heap out of every later collection.
        process_tuning.tune_garbage_collector()
        await asyncio.Event().wait()


@app.command("send-mo")
def send_mo(
    source: Annotated[str, typer.Argument(help="The phone the SMS comes from")],
    destination: Annotated[str, typer.Argument(help="The number it is sent to (yours)")],
    text: Annotated[str, typer.Argument(help="Its text; a long one goes as concatenated parts")],
    control: Annotated[
        str, typer.Option(help="The running simulator's control endpoint")
    ] = f"http://127.0.0.1:{DEMO_CONTROL_PORT}",
    system_id: Annotated[
        str | None, typer.Option(help="The bind it goes to (default: the first configured)")
    ] = None,
) -> None:
    """Send an inbound SMS (MO) from a running simulator (`smsgate serve --demo` runs one with
    its control endpoint on port 8776) to the gateway bound to it."""
    form = {"from": source, "to": destination, "text": text}
    if system_id is not None:
        form["system_id"] = system_id
    request = urllib.request.Request(
        control.rstrip("/") + "/mo", data=urllib.parse.urlencode(form).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        typer.echo(f"error: {json.loads(exc.read()).get('error', exc)}", err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"error: cannot reach the simulator at {control}: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"sent an inbound SMS from {source} to {destination} in {answer['parts']} part(s)")
