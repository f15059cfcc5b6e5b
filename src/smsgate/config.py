"""Configuration of one node: a TOML file plus SMSGATE_* environment variables.

The defaults make `smsgate serve --demo` work with nothing else: SQLite under ./var/, the
simulator started alongside as the only operator. Nested values come from the environment as
SMSGATE_DATABASE__URL, SMSGATE_HTTP__PORT, and so on.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)


class DatabaseSettings(BaseModel):
    url: str = "sqlite+aiosqlite:///./var/smsgate.db"
    # SQLite only: NORMAL survives kill -9 (the WAL is in the OS cache); FULL also survives
    # power loss at about half the write throughput.
    synchronous: Literal["NORMAL", "FULL"] = "NORMAL"


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 1_000_000


class SmppDoorSettings(BaseModel):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 2775
    tls_port: int | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    # Seconds the parts of a long message wait in the store for the missing ones before the
    # message ends REJECTD (each part was answered when it arrived).
    assembly_timeout: float = Field(default=300.0, gt=0)


class ConnectorSettings(BaseModel):
    """One SMPP client bind to an operator SMSC."""

    name: str
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    bind_type: Literal["transmitter", "transceiver"] = "transceiver"
    window: int = 64
    tps: float | None = None
    concat: Literal["udh", "sar"] = "udh"
    tls: bool = False
    response_timeout: float = 10.0  # seconds for a submit_sm_resp; then the part is retried


class RouteSettings(BaseModel):
    prefix: str = ""  # international digits; "" matches every destination
    connectors: list[str]  # tried in order: the first bound one takes the part


class SimulatorSettings(BaseModel):
    """The built-in operator simulator, started in-process when enabled."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 2776
    system_id: str = "smsgate"
    password: str = "sim"
    receipt_delay: float = 0.5


class DispatchSettings(BaseModel):
    batch: int = 500
    claim_ttl: float = 300.0
    retry_backoff: float = 2.0
    retry_backoff_max: float = 300.0


class NodeSettings(BaseModel):
    """How this node shares one database with others (leases are kept in the database)."""

    # Who holds this node's leases; empty means "this host, this process" (set by the workers
    # supervisor so a restarted worker takes back its own node id and connectors at once).
    holder: str = ""
    lease_ttl: float = 10.0  # node:<id>; renewed every third of it
    connector_lease_ttl: float = 3.0  # connector:<name>; a dead holder's bind moves this fast
    receipt_lease_ttl: float = 5.0  # receipts:<account>; one node pumps an account's receipts
    # Bid for a free connector only after leaving it to other nodes for one lease round (set by
    # the workers supervisor on the worker that serves the SMPP door).
    defer_connectors: bool = False
    # Run the node's threads as SCHED_BATCH (Linux): a thread the node wakes does not preempt
    # the one that woke it while that one holds the GIL (see smsgate/scheduling.py).
    batch_scheduling: bool = True


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMSGATE_", env_nested_delimiter="__")

    node_id: int = 0
    default_region: str = "UA"
    default_lifetime_minutes: float = 24 * 60
    dedupe_window_seconds: float = 120.0
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    smpp: SmppDoorSettings = Field(default_factory=SmppDoorSettings)
    connectors: list[ConnectorSettings] = Field(default_factory=list)
    routes: list[RouteSettings] = Field(default_factory=list)
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    node: NodeSettings = Field(default_factory=NodeSettings)


class ConfigError(Exception):
    """The configuration file cannot be read or does not validate."""


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from explicit overrides, then the environment, then the TOML file (if given),
    then the defaults: each source wins over the ones after it."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from exc

    class _Layered(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            from_file = InitSettingsSource(settings_cls, init_kwargs=data)
            return (init_settings, env_settings, from_file)

    try:
        return Settings.model_validate(_Layered(**overrides).model_dump())
    except ValueError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from exc


def state_dir(settings: Settings) -> Path:
    """Where a node keeps its small files (demo credentials, its lease holder name): beside a
    SQLite database, else ./var."""
    url = settings.database.url
    if url.startswith("sqlite") and ":///" in url:
        return Path(url.split(":///", 1)[1]).parent
    return Path("var")


def demo_settings(base: Settings) -> Settings:
    """The `--demo` node: with no operator configured, the simulator runs in-process as the only
    one and takes every route."""
    if base.connectors:
        return base
    sim = base.simulator.model_copy(update={"enabled": True})
    connector = ConnectorSettings(
        name="simulator",
        host=sim.host,
        port=sim.port,
        system_id=sim.system_id,
        password=sim.password,
    )
    return base.model_copy(
        update={
            "simulator": sim,
            "connectors": [connector],
            "routes": base.routes or [RouteSettings(prefix="", connectors=["simulator"])],
        }
    )
