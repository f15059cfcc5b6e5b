"""Configuration of one node: a TOML file plus SMSGATE_* environment variables.

The defaults make `smsgate serve --demo` work with nothing else: SQLite under ./var/, the
simulator started alongside as the only operator. Nested values come from the environment as
SMSGATE_DATABASE__URL, SMSGATE_HTTP__PORT, and so on.
"""

from __future__ import annotations

import ssl
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# A key the model does not know is an error at every level: a typo must not fall back silently
# to a default (`[database] ulr` would otherwise run on SQLite in ./var).
_STRICT = ConfigDict(extra="forbid")
# Marks a setting whose value is never printed (`config show`, error messages, logs).
SECRET: dict[str, Any] = {"secret": True}


class DatabaseSettings(BaseModel):
    """The one database every node of a deployment shares."""

    model_config = _STRICT

    url: str = Field(
        default="sqlite+aiosqlite:///./var/smsgate.db",
        description="SQLAlchemy URL: `sqlite+aiosqlite:///path` or "
        "`postgresql+asyncpg://user:password@host/db`; a plain `postgresql://` or "
        "`postgres://` (libpq's form, as pg_dump takes it) means asyncpg too, the driver "
        "installed. Its password is masked when shown.",
        json_schema_extra=SECRET,
    )
    synchronous: Literal["NORMAL", "FULL"] = Field(
        default="NORMAL",
        description="SQLite only: NORMAL survives kill -9 (the WAL is in the OS cache); FULL "
        "also survives power loss at about half the write throughput.",
    )

    @field_validator("url")
    @classmethod
    def _installed_driver(cls, url: str) -> str:
        """The drivers the server extra installs are asyncpg and aiosqlite: a URL without a
        driver gets that one (SQLAlchemy would pick psycopg or pysqlite, not installed), and
        one naming another driver is refused here rather than failing at start."""
        scheme, sep, rest = url.partition("://")
        if not sep:
            return url
        backend, _, driver = scheme.partition("+")
        backend = {"postgres": "postgresql"}.get(backend, backend)
        wanted = _DRIVERS.get(backend)
        if wanted is None:
            return url  # the store names what it does not support
        if driver and driver != wanted:
            # The URL itself is not repeated: it may hold a password.
            raise ValueError(f"{backend}+{driver}:// is not installed: use {backend}+{wanted}://")
        return f"{backend}+{wanted}://{rest}"


_DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}


def _require_pair(section: str, cert: str | None, key: str | None) -> None:
    if (cert is None) != (key is None):
        raise ValueError(f"tls_cert and tls_key go together: [{section}] sets one of them only")


class HttpSettings(BaseModel):
    """The HTTP doors: the SMS Club JSON API, the HTTP and XML gateways, /health, /metrics."""

    model_config = _STRICT

    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8080, description="Port to listen on.")
    max_body_bytes: int = Field(
        default=1_000_000, description="Largest request body accepted, in bytes."
    )
    # Limits on clients that hold connections (doors/http_protocol.py).
    max_connections: int = Field(
        default=1024,
        gt=0,
        description="Open HTTP connections per node process; one more is answered 503.",
    )
    header_timeout: float = Field(
        default=5.0, gt=0, description="Seconds a request may take to send its headers."
    )
    body_timeout: float = Field(
        default=30.0, gt=0, description="Seconds a request may take to send its body after them."
    )
    stall_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a client may leave its answers unread before it is dropped.",
    )
    keep_alive_timeout: int = Field(
        default=5,
        ge=1,
        le=3600,
        description="Seconds an idle keep-alive connection is kept open. Behind a load "
        "balancer that reuses connections, set it above the balancer's idle timeout (65 for "
        "an idle timeout of 60), or a request it sends just as the node closes fails.",
    )
    tls_cert: str | None = Field(
        default=None,
        description="PEM certificate file (the chain after it): with tls_key, the port serves "
        "HTTPS only (every HTTP door, /health, the dashboard with Secure cookies).",
    )
    tls_key: str | None = Field(default=None, description="PEM private key file of tls_cert.")

    @model_validator(mode="after")
    def _tls_pair(self) -> HttpSettings:
        _require_pair("http", self.tls_cert, self.tls_key)
        return self


class SmppDoorSettings(BaseModel):
    """The SMPP door customers bind to (SMSC role)."""

    model_config = _STRICT

    enabled: bool = Field(default=True, description="Serve the SMPP door.")
    host: str = Field(
        default="127.0.0.1",
        description="Address to listen on; set it like [http] host when customers bind from "
        "other machines.",
    )
    port: int = Field(default=2775, description="Plain SMPP port.")
    tls_port: int | None = Field(
        default=None,
        description="SMPP over TLS port, served beside the plain one (off when unset; needs "
        "tls_cert and tls_key).",
    )
    tls_cert: str | None = Field(
        default=None, description="PEM certificate file (the chain after it) for tls_port."
    )
    tls_key: str | None = Field(default=None, description="PEM private key file for tls_port.")
    assembly_timeout: float = Field(
        default=300.0,
        gt=0,
        description="Seconds the parts of a long message wait in the store for the missing "
        "ones before the message ends REJECTD (each part was answered when it arrived).",
    )
    write_stall_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds a customer may leave its answers unread (the node stops reading "
        "its requests meanwhile) before its session is dropped.",
    )
    max_connections: int = Field(
        default=1024,
        gt=0,
        description="Open SMPP connections per node process and port; one more is closed at "
        "once and logged (smpp_connection_refused).",
    )

    @model_validator(mode="after")
    def _tls_complete(self) -> SmppDoorSettings:
        _require_pair("smpp", self.tls_cert, self.tls_key)
        if (self.tls_port is None) != (self.tls_cert is None):
            # Either half alone would be ignored: a TLS door on a random port, or none at all.
            raise ValueError("tls_port, tls_cert and tls_key go together: set all three or none")
        return self


class ConnectorSettings(BaseModel):
    """One SMPP client bind to an operator SMSC."""

    model_config = _STRICT

    name: str = Field(description="Name routes refer to; unique.")
    host: str = Field(description="The operator's SMSC address.")
    port: int = Field(description="The operator's SMSC port.")
    # SMPP v3.4 caps these C-strings (16 and 9 octets with the NUL): a longer one cannot be
    # sent, so it is refused here rather than failing every bind.
    system_id: str = Field(max_length=15, description="Bind login given by the operator.")
    password: str = Field(
        max_length=8,
        description="Bind password given by the operator (SMPP allows at most 8 characters).",
        json_schema_extra=SECRET,
    )
    system_type: str = Field(default="", description="system_type sent in the bind.")
    bind_type: Literal["transmitter", "transceiver"] = Field(
        default="transceiver",
        description="transceiver also takes receipts on the same bind; transmitter only submits.",
    )
    window: int = Field(default=64, description="Submits in flight before waiting for answers.")
    tps: float | None = Field(
        default=None, description="Submits per second the operator allows (unlimited if unset)."
    )
    concat: Literal["udh", "sar"] = Field(
        default="udh", description="How the parts of a long message are joined: UDH or SAR TLVs."
    )
    tls: bool = Field(default=False, description="Connect with TLS.")
    response_timeout: float = Field(
        default=10.0, description="Seconds to wait for a submit_sm_resp; then the part is retried."
    )
    bound_resends: bool = Field(
        default=True,
        description="Keep a part's window slot until the operator's answer to it is stored, so "
        "that a node killed at any moment resends at most `window` parts this operator may "
        "already have; false frees the slot at the answer (a little more throughput when the "
        "database commits slowly, but a kill resends every answer not yet stored too).",
    )
    query_after: float | None = Field(
        default=None,
        gt=0,
        description="Seconds a submitted part may wait for its receipt before the operator is "
        "asked about it with query_sm (and again every as many seconds); unset: never ask "
        "(the operator does not support query_sm). At its lifetime's end a part with no "
        "receipt becomes EXPIRED either way.",
    )


class RouteSettings(BaseModel):
    """Which connectors take a destination: the longest matching prefix wins."""

    model_config = _STRICT

    prefix: str = Field(
        default="", description='International digits; "" matches every destination.'
    )
    connectors: list[str] = Field(
        min_length=1,
        description="Connector names, tried in order: the first bound one takes the part.",
    )


DEMO_CONTROL_PORT = 8776


class SimulatorSettings(BaseModel):
    """The built-in operator simulator, started in-process when enabled."""

    model_config = _STRICT

    enabled: bool = Field(default=False, description="Start the simulator in this node.")
    host: str = Field(default="127.0.0.1", description="Address the simulator listens on.")
    port: int = Field(default=2776, description="Port the simulator listens on.")
    system_id: str = Field(
        default="smsgate", max_length=15, description="Login the simulator accepts."
    )
    password: str = Field(
        default="sim",
        max_length=8,
        description="Password the simulator accepts (at most 8 characters, as in SMPP).",
        json_schema_extra=SECRET,
    )
    receipt_delay: float = Field(
        default=0.5, description="Seconds before the simulator sends a receipt."
    )
    control_port: int | None = Field(
        default=None,
        description="Port of the simulator's control endpoint on its host (faults, counters, "
        "POST /mo to send an inbound SMS; `smsgate simulator send-mo`); `serve --demo` uses "
        f"{DEMO_CONTROL_PORT} when unset.",
    )


class InboundSettings(BaseModel):
    """Inbound SMS (MO) from operators: reassembly and opt-out keywords."""

    model_config = _STRICT

    reassembly_timeout: float = Field(
        default=300.0,
        gt=0,
        description="Seconds to wait for the rest of a concatenated inbound SMS before "
        "delivering what arrived, marked incomplete.",
    )
    stop_words: list[str] = Field(
        default_factory=lambda: ["STOP", "СТОП", "UNSUBSCRIBE"],
        description="An inbound SMS that is one of these (alone, or with one keyword after it) "
        "puts its sender on the account's suppression list.",
    )
    start_words: list[str] = Field(
        default_factory=lambda: ["START", "СТАРТ"],
        description="An inbound SMS that is one of these takes its sender off the list again.",
    )

    @model_validator(mode="after")
    def _words_are_keywords(self) -> InboundSettings:
        from smsgate.domain.optout import OptOutWords

        OptOutWords.of(self.stop_words, self.start_words)  # ValueError names the bad word
        return self


class DispatchSettings(BaseModel):
    """How stored parts are handed to connectors."""

    model_config = _STRICT

    batch: int = Field(default=500, description="Parts claimed from the store at once.")
    claim_ttl: float = Field(
        default=300.0, description="Seconds a claimed, unsent part stays with its node."
    )
    retry_backoff: float = Field(
        default=2.0, description="Seconds before the first retry of a temporary failure."
    )
    retry_backoff_max: float = Field(
        default=300.0, description="Longest wait between retries, in seconds."
    )
    receipt_watch_every: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between rounds of the receipt watch: query_sm for overdue "
        "receipts, EXPIRED for submitted parts past their lifetime.",
    )
    receipt_grace: float = Field(
        default=5.0,
        ge=0,
        description="Seconds past a message's lifetime that a receipt may still come before "
        "a submitted part with none becomes EXPIRED.",
    )


class NodeSettings(BaseModel):
    """How this node shares one database with others (leases are kept in the database)."""

    model_config = _STRICT

    holder: str = Field(
        default="",
        description='Who holds this node\'s leases; "" means this host and process (the '
        "workers supervisor sets it so that a restarted worker takes back its own node id and "
        "connectors at once).",
    )
    lease_ttl: float = Field(
        default=10.0,
        description="Seconds of the node:<id> lease; renewed with the connector leases, in "
        "one transaction a round, every third of the shorter of the two ttls.",
    )
    connector_lease_ttl: float = Field(
        default=3.0,
        description="Seconds of a connector:<name> lease: a dead holder's bind moves this fast.",
    )
    receipt_lease_ttl: float = Field(
        default=5.0,
        description="Seconds of a receipts:<account> lease: one node pumps an account's receipts.",
    )
    defer_connectors: bool = Field(
        default=False,
        description="Bid for a free connector only after leaving it to other nodes for one "
        "lease round (the workers supervisor sets it on the worker that serves the SMPP door).",
    )
    defer_callbacks: bool = Field(
        default=False,
        description="Leave an account's callbacks and webhooks to other nodes for a second "
        "before bidding for them (the workers supervisor sets it on the workers that do not "
        "serve the SMPP door: they bid for the operator connectors first).",
    )
    batch_scheduling: bool = Field(
        default=True,
        description="Run the node's threads as SCHED_BATCH (Linux): a thread the node wakes "
        "does not preempt the one that woke it while that one holds the GIL.",
    )
    cpu: int | None = Field(
        default=None,
        ge=0,
        description="Run the node's threads on this CPU only (Linux; one this process may "
        "use). Its event loop and its store's writer take turns on one GIL, and kept on one "
        "core they hand it over for less CPU per message. Unset, "
        "the OS places them; the workers supervisor sets it per worker (pin_workers).",
    )
    pin_workers: bool = Field(
        default=True,
        description="With --workers N and at least N CPUs this process may use, run each "
        "worker on a CPU of its own (the supervisor sets each worker's cpu); with fewer CPUs "
        "the workers are left to the OS.",
    )
    drain_timeout: float = Field(
        default=15.0,
        gt=0,
        description="Seconds a stopping node (SIGTERM) gives the HTTP requests and the parts "
        "in flight to finish before it closes anyway; /health/ready answers 503 meanwhile.",
    )
    ready_grace: float = Field(
        default=0.0,
        ge=0,
        le=300,
        description="Seconds a stopping node (SIGTERM) keeps taking requests while "
        "/health/ready answers 503, before it stops accepting and drains: a load balancer "
        "that checks /health/ready takes the node out first and its clients see no refused "
        "connection. Set it above the balancer's check interval (deploy/ uses 5).",
    )


class RetentionSettings(BaseModel):
    """How long finished messages and inbound SMS are kept; one node at a time sweeps (a
    `retention` lease). Account balances are never touched."""

    model_config = _STRICT

    erase_text_after_days: float | None = Field(
        default=None,
        gt=0,
        description="Erase the text of finished messages and of inbound SMS this many days "
        "old (status and money stay); unset keeps texts.",
    )
    delete_after_days: float | None = Field(
        default=None,
        gt=0,
        description="Delete finished messages (their parts and outbox rows with them), "
        "inbound SMS and the accounts' events this many days old; unset keeps them. Balances "
        "and charged totals stay.",
    )
    every: float = Field(default=3600.0, gt=0, description="Seconds between sweeps.")


class MetricsSettings(BaseModel):
    """The Prometheus metrics: on an admin listener of their own, never on the public HTTP
    port. Under `serve --workers N` the supervisor serves every worker's series on it, each
    labelled with its `worker`."""

    model_config = _STRICT

    host: str = Field(default="127.0.0.1", description="Address of the metrics listener.")
    port: int | None = Field(
        default=None,
        description="Port of the metrics listener (GET /metrics); unset means no listener.",
    )
    token: str = Field(
        default="",
        description='Bearer token a scrape must send (Authorization: Bearer …); "" asks for '
        "none (keep the listener on a private address then).",
        json_schema_extra=SECRET,
    )


class CallbackSettings(BaseModel):
    """Per-message callbacks (dlr_url, callback_url) and webhook endpoints: how they are
    sent."""

    model_config = _STRICT

    allow_private: bool = Field(
        default=False,
        description="Callback and webhook URLs may point at loopback and private addresses "
        "(the demo allows them; elsewhere they let a customer reach your internal network).",
    )
    max_connections: int = Field(
        default=256, gt=0, description="Open connections to receivers, kept alive between calls."
    )
    max_connections_per_receiver: int = Field(
        default=128,
        gt=0,
        description="Callbacks and webhooks sent to one receiver (scheme, host, port) at once; "
        "the rest wait their turn, so a burst does not flood a customer's server and one that "
        "never answers holds no more slots than this.",
    )
    connect_timeout: float = Field(default=5.0, gt=0, description="Seconds to connect.")
    total_timeout: float = Field(
        default=15.0, gt=0, description="Seconds for a whole callback, first byte to answer."
    )
    batch: int = Field(
        default=500, gt=0, description="Callbacks of one account read and sent at once."
    )


class LogSettings(BaseModel):
    """What the node writes to stderr (see smsgate/logs.py)."""

    model_config = _STRICT

    format: Literal["auto", "json", "logfmt", "text"] = Field(
        default="auto",
        description="json or logfmt for a log collector, text for people; auto is text on a "
        "terminal and json otherwise.",
    )
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level written."
    )
    access: bool = Field(
        default=False,
        description="One line per HTTP request (logger smsgate.access: method, path without "
        "the query, status, milliseconds, account). Off by default: a line costs about as "
        "much CPU as the rest of a small request.",
    )


class Settings(BaseSettings):
    """One node's settings: the top-level keys of the TOML file."""

    model_config = SettingsConfigDict(
        env_prefix="SMSGATE_", env_nested_delimiter="__", extra="forbid"
    )

    node_id: int = Field(
        default=0,
        description="The node id asked for first; a live node holding it moves "
        "this one to the next free id.",
    )
    default_region: str = Field(
        default="UA", description="Region for numbers written without the international prefix."
    )
    default_lifetime_minutes: float = Field(
        default=24 * 60,
        description="How long a message may wait for delivery when the customer gives no lifetime.",
    )
    dedupe_window_seconds: float = Field(
        default=120.0,
        description="The same text to the same number from the same account "
        "within this window is answered with the first message's id.",
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    smpp: SmppDoorSettings = Field(default_factory=SmppDoorSettings)
    connectors: list[ConnectorSettings] = Field(
        default_factory=list, description="Operator binds, as [[connectors]] tables."
    )
    routes: list[RouteSettings] = Field(
        default_factory=list,
        description="Routes, as [[routes]] tables; none means every connector serves every "
        "destination.",
    )
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    inbound: InboundSettings = Field(default_factory=InboundSettings)
    node: NodeSettings = Field(default_factory=NodeSettings)
    callbacks: CallbackSettings = Field(default_factory=CallbackSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)


class ConfigError(Exception):
    """The configuration file cannot be read or does not validate."""


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from explicit overrides, then the environment, then the TOML file (if given),
    then the defaults: each source wins over the ones after it. Unknown keys, bad values and
    routes naming undeclared connectors are ConfigErrors naming the key's path."""
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
        settings = Settings.model_validate(_Layered(**overrides).model_dump())
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {describe_errors(exc)}") from None
    problems = reference_problems(settings) + tls_problems(settings)
    if problems:
        raise ConfigError(f"invalid configuration: {'; '.join(problems)}")
    return settings


def key_path(loc: tuple[int | str, ...]) -> str:
    """`("connectors", 0, "pasword")` as `connectors[0].pasword`: the way a TOML reader finds it."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe_errors(exc: ValidationError) -> str:
    """pydantic's errors as `path: problem` on one line, without the validating class's name
    (an internal one) and without echoing the value of a secret or of an unknown key."""
    shown = []
    for error in exc.errors():
        path = key_path(tuple(error["loc"])) or "(top level)"
        if error["type"] == "extra_forbidden":
            shown.append(f"{path}: unknown setting")
            continue
        problem = error["msg"].removeprefix("Value error, ")
        # A whole table's check (a model validator) names its keys itself: no input echoed.
        shown_input = error["type"] != "value_error"
        if error["loc"] and error["loc"][-1] not in _SECRET_NAMES and shown_input:
            problem += f" (got {error['input']!r})"
        shown.append(f"{path}: {problem}")
    return "; ".join(shown)


_SECRET_NAMES = frozenset({"password", "url"})


def reference_problems(settings: Settings) -> list[str]:
    """What points at nothing: a route naming an undeclared connector, two connectors sharing
    a name. The node would otherwise fail at start with a traceback."""
    problems = []
    names = [c.name for c in settings.connectors]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"connectors: the name {name!r} is declared more than once")
    declared = set(names)
    for i, route in enumerate(settings.routes):
        for name in route.connectors:
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none are declared"
                problems.append(
                    f"routes[{i}].connectors: {name!r} is not a declared connector ({known})"
                )
    return problems


def tls_problems(settings: Settings) -> list[str]:
    """A certificate or key file that is missing, unreadable, not PEM, or not a pair: found
    here, with the key's path, rather than as a traceback when the node starts listening."""
    problems = []
    for section, cert, key in (
        ("http", settings.http.tls_cert, settings.http.tls_key),
        ("smpp", settings.smpp.tls_cert, settings.smpp.tls_key),
    ):
        if cert is None or key is None:
            continue
        missing = [
            f"{section}.{name}: no such file {path!r}"
            for name, path in (("tls_cert", cert), ("tls_key", key))
            if not Path(path).is_file()
        ]
        if missing:
            problems.extend(missing)
            continue
        try:
            server_tls_context(cert, key)
        except (OSError, ssl.SSLError) as exc:
            problems.append(
                f"{section}.tls_cert, {section}.tls_key: cannot be loaded as a PEM certificate "
                f"and its private key ({exc})"
            )
    return problems


def server_tls_context(cert: str, key: str) -> ssl.SSLContext:
    """The TLS context a door serves with: the system's defaults for a server (TLS 1.2 and up,
    no client certificate asked)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def state_dir(settings: Settings) -> Path:
    """Where a node keeps its small files (demo credentials, its lease holder name): beside a
    SQLite database, else ./var."""
    url = settings.database.url
    if url.startswith("sqlite") and ":///" in url:
        return Path(url.split(":///", 1)[1]).parent
    return Path("var")


def demo_settings(base: Settings) -> Settings:
    """The `--demo` node: callbacks may go to this machine; with no operator configured, the
    simulator runs in-process as the only one and takes every route."""
    callbacks = base.callbacks.model_copy(update={"allow_private": True})
    base = base.model_copy(update={"callbacks": callbacks})
    if base.connectors:
        return base
    sim = base.simulator.model_copy(update={"enabled": True})
    connector = ConnectorSettings(
        name="simulator",
        host=sim.host,
        port=sim.port,
        system_id=sim.system_id,
        password=sim.password,
        query_after=30.0,  # the simulator answers query_sm
    )
    return base.model_copy(
        update={
            "simulator": sim,
            "connectors": [connector],
            "routes": base.routes or [RouteSettings(prefix="", connectors=["simulator"])],
        }
    )
