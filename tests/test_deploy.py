"""The deployment recipes in deploy/ and the Dockerfile say what the README says they do.

The full run of deploy/compose.yaml without Docker is `make compose-check`; these checks are
the quick part of it, run with the suite.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import re
from pathlib import Path
from types import ModuleType

import pytest

from smsgate.config import load_settings

ROOT = Path(__file__).resolve().parents[1]


def compose_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compose_check", ROOT / "deploy/compose_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_compose_file_runs_two_nodes_on_postgresql() -> None:
    services = compose_check().read_compose()
    assert services["postgres"]["image"].startswith("postgres:")
    assert "healthcheck" in services["postgres"]


def test_the_compose_nodes_config_is_valid_and_listens_on_every_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key in list(os.environ):
        if key.startswith("SMSGATE_"):
            monkeypatch.delenv(key)
    settings = load_settings(ROOT / "deploy/smsgate.toml")
    assert settings.http.host == "0.0.0.0" and settings.smpp.host == "0.0.0.0"
    assert settings.log.format == "json"


def test_the_image_is_multi_stage_non_root_with_a_health_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) == 2
    assert re.search(r"^USER smsgate$", dockerfile, re.M)
    assert re.search(r"^HEALTHCHECK .*/health", dockerfile, re.M | re.S)
    # The URL it asks: /health/live over plain HTTP unless the deployment says https.
    assert re.search(
        r"^ENV SMSGATE_HEALTH_URL=http://127\.0\.0\.1:8080/health/live$", dockerfile, re.M
    )


def test_the_systemd_unit_checks_the_config_then_serves_it_unprivileged() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(ROOT / "deploy/smsgate.service", encoding="utf-8")
    service = unit["Service"]
    assert service["User"] == "smsgate"
    assert service["ExecStartPre"].endswith(
        "smsgate config check --config /etc/smsgate/smsgate.toml"
    )
    assert service["ExecStart"].endswith("smsgate serve --config /etc/smsgate/smsgate.toml")
