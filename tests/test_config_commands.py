"""`smsgate config check | show | reference`, driven the way an operator types them."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsgate.config import load_settings
from smsgate.config_commands import app
from smsgate.config_reference import reference
from smsgate.config_warnings import config_warnings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
CONFIG = """
[database]
url = "postgresql+asyncpg://smsgate:db-s3cret@db.example/smsgate"

[[connectors]]
name = "operator-a"
host = "smsc.example"
port = 2775
system_id = "acme"
password = "bindS3cr"

[[routes]]
prefix = "380"
connectors = ["operator-a"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "smsgate.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"SMSGATE_DATABASE__URL": None}).invoke(
        app, list(args), catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def test_check_accepts_a_good_file_and_says_what_it_found(config: Path) -> None:
    code, out, _ = run("check", "--config", str(config))
    assert code == 0
    assert out.startswith(f"ok: {config}: 1 connector, 1 routes")
    assert "db-s3cret" not in out and "smsgate:********@db.example" in out


def test_check_names_the_key_of_every_problem_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[database]\nulr = "x"\n[http]\nport = "eighty"\n', encoding="utf-8")
    code, out, err = run("check", "--config", str(bad))
    assert code == 2 and out == ""
    assert err.startswith("error: invalid configuration: ")
    assert "database.ulr: unknown setting" in err
    assert "http.port: Input should be a valid integer" in err
    assert "Traceback" not in err


def test_show_prints_the_effective_settings_with_secrets_masked(config: Path) -> None:
    code, out, _ = run("show", "--config", str(config))
    assert code == 0
    assert "db-s3cret" not in out and "bindS3cr" not in out
    shown = tomllib.loads(out)  # what it prints is a TOML file the node would read
    assert shown["database"]["url"] == "postgresql+asyncpg://smsgate:********@db.example/smsgate"
    assert shown["connectors"][0]["password"] == "********"
    assert shown["connectors"][0]["system_id"] == "acme"
    assert shown["routes"] == [{"prefix": "380", "connectors": ["operator-a"]}]
    assert shown["http"]["port"] == 8080  # defaults are shown too


def test_the_committed_reference_is_what_the_settings_model_generates() -> None:
    assert DOCS.read_text(encoding="utf-8") == reference(), (
        "docs/configuration.md is stale: run `smsgate config reference > docs/configuration.md`"
    )


def test_the_reference_documents_every_section_and_marks_secrets() -> None:
    code, out, _ = run("reference")
    assert code == 0
    for header in ("[database]", "[http]", "[smpp]", "[[connectors]]", "[[routes]]", "[log]"):
        assert f"## `{header}`" in out
    password_row = next(line for line in out.splitlines() if line.startswith("| `password` | str"))
    assert "*secret*" in password_row
    assert "`SMSGATE_DATABASE__URL`" in out


def test_check_warns_of_what_is_legal_but_wrong_in_production(tmp_path: Path) -> None:
    odd = tmp_path / "odd.toml"
    odd.write_text(
        '[http]\nhost = "0.0.0.0"\n[smpp]\nhost = "127.0.0.1"\n'
        '[metrics]\nhost = "0.0.0.0"\nport = 9464\n',
        encoding="utf-8",
    )
    code, out, err = run("check", "--config", str(odd))
    assert code == 0 and out.startswith("ok: ")
    warnings = err.strip().splitlines()
    assert len(warnings) == 2, err
    assert warnings[0].startswith("warning: metrics.token is empty while metrics.host is 0.0.0.0")
    assert warnings[1].startswith("warning: smpp.host is 127.0.0.1 while http.host is 0.0.0.0")


def test_the_deployment_recipes_config_draws_no_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("SMSGATE_"):
            monkeypatch.delenv(key)
    root = Path(__file__).resolve().parents[1]
    assert config_warnings(load_settings(root / "deploy" / "smsgate.toml")) == []
    token = load_settings(None, metrics={"host": "0.0.0.0", "port": 9464, "token": "t"})
    assert config_warnings(token) == []
