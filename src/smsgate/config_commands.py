"""`smsgate config check | show | reference`: look at a configuration without starting a node.

check validates the file and the environment (unknown keys, bad values, routes naming
undeclared connectors) and exits 2 with each problem's key path, or says what looks wrong
(config_warnings.py) and exits 0; show prints the effective
settings with secrets masked; reference prints docs/configuration.md. None opens the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smsgate.config import ConfigError, Settings, load_settings
from smsgate.config_reference import as_toml, mask, reference
from smsgate.config_warnings import config_warnings

app = typer.Typer(no_args_is_help=True, help=__doc__)

EXIT_CONFIG = 2  # the code `smsgate serve` exits with on a bad configuration

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="TOML configuration file (SMSGATE_* variables also apply)"),
]


def _load(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None


@app.command()
def check(config: ConfigOption = None) -> None:
    """Validate the configuration; exit 2 naming each problem's key."""
    settings = _load(config)
    for warning in config_warnings(settings):
        typer.echo(f"warning: {warning}", err=True)
    connectors = len(settings.connectors)
    typer.echo(
        f"ok: {config or '(no file: defaults and environment)'}: "
        f"{connectors} connector{'s' * (connectors != 1)}, {len(settings.routes)} routes, "
        f"database {mask(type(settings.database).model_fields['url'], settings.database.url)}"
    )


@app.command()
def show(config: ConfigOption = None) -> None:
    """Print the effective settings (file, environment, defaults) as TOML, secrets masked."""
    typer.echo(as_toml(_load(config)), nl=False)


@app.command("reference")
def reference_() -> None:
    """Print the reference of every setting (the text of docs/configuration.md)."""
    typer.echo(reference(), nl=False)
