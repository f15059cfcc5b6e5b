"""What a valid configuration may still get wrong in production, said by `smsgate config
check` (on stderr, exit 0) and logged by `smsgate serve` at start (event config_warning):
settings that are legal alone but odd together.

It judges settings only; it opens nothing and changes nothing.
"""

from __future__ import annotations

from smsgate.config import Settings

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _public(host: str) -> bool:
    return host not in _LOOPBACK and not host.startswith("127.")


def config_warnings(settings: Settings) -> list[str]:
    """Each warning names the settings involved and what follows from them."""
    found = []
    metrics = settings.metrics
    if metrics.port is not None and _public(metrics.host) and not metrics.token:
        found.append(
            f"metrics.token is empty while metrics.host is {metrics.host}: anyone who reaches "
            f"port {metrics.port} reads the metrics; set a token or a private address"
        )
    http, smpp = settings.http, settings.smpp
    if smpp.enabled and _public(http.host) and not _public(smpp.host):
        found.append(
            f"smpp.host is {smpp.host} while http.host is {http.host}: customers on other "
            "machines reach the HTTP doors but cannot bind over SMPP"
        )
    return found
