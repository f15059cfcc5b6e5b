from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from smsgate.admin import app

from .admin_cli import Admin


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_missing_config_file_exits_2_with_one_line(admin: Admin, tmp_path: Path) -> None:
    message = admin.refused("accounts", "list", "--config", str(tmp_path / "nope.toml"), code=2)
    assert message.startswith("error: cannot read config")


def test_a_config_that_is_not_toml_exits_2(admin: Admin, tmp_path: Path) -> None:
    config = tmp_path / "smsgate.toml"
    config.write_text("[database\nurl = ", encoding="utf-8")
    assert "cannot read config" in admin.refused(
        "accounts", "list", "--config", str(config), code=2
    )


def test_a_config_that_does_not_validate_exits_2(admin: Admin, tmp_path: Path) -> None:
    config = tmp_path / "smsgate.toml"
    config.write_text('[http]\nport = "eighty"\n', encoding="utf-8")
    message = admin.refused("accounts", "list", "--config", str(config), code=2)
    assert message.startswith("error: invalid configuration")
    assert "http.port" in message and "eighty" in message


def test_the_config_file_names_the_database(tmp_path: Path) -> None:
    config = tmp_path / "smsgate.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/from-config.db"\n', encoding="utf-8"
    )
    runner = CliRunner(env={"SMSGATE_DATABASE__URL": None})  # only the file names it
    created = runner.invoke(
        app,
        ["--create", "accounts", "create", "alice", "--config", str(config)],
        catch_exceptions=False,
    )
    assert created.exit_code == 0, created.stderr
    assert (tmp_path / "from-config.db").exists()
    listed = runner.invoke(
        app, ["accounts", "list", "--json", "--config", str(config)], catch_exceptions=False
    )
    assert '"login": "alice"' in listed.stdout


def test_an_unreachable_database_exits_3_without_showing_its_password(admin: Admin) -> None:
    url = f"postgresql+asyncpg://smsgate:s3cret@127.0.0.1:{_free_port()}/smsgate"
    result = admin("accounts", "list", env={"SMSGATE_DATABASE__URL": url})
    assert result.exit_code == 3
    line = result.stderr.strip()
    assert line.startswith("error: cannot open the database postgresql+asyncpg://smsgate:***@")
    assert "s3cret" not in result.stderr
    assert "\n" not in line and "Traceback" not in line


def test_an_unsupported_database_exits_3(admin: Admin) -> None:
    result = admin("accounts", "list", env={"SMSGATE_DATABASE__URL": "mysql://u@127.0.0.1/x"})
    assert result.exit_code == 3
    assert "unsupported database" in result.stderr


def test_an_sqlite_file_that_cannot_be_created_exits_3(admin: Admin, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    url = f"sqlite+aiosqlite:///{blocker}/smsgate.db"
    result = admin("accounts", "create", "alice", env={"SMSGATE_DATABASE__URL": url})
    assert result.exit_code == 3
    assert result.stderr.startswith("error: cannot open the database")
    assert result.stdout == ""  # no token was printed for an account that does not exist


def test_admin_refuses_to_create_a_database_unless_asked(tmp_path: Path) -> None:
    db = tmp_path / "var" / "smsgate.db"
    runner = CliRunner(env={"SMSGATE_DATABASE__URL": f"sqlite+aiosqlite:///{db}"})
    refused = runner.invoke(app, ["accounts", "list"], catch_exceptions=False)
    assert refused.exit_code == 3
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: the database {db} does not exist")
    )
    assert "--create" in refused.stderr
    assert not db.exists()
    created = runner.invoke(app, ["--create", "accounts", "list"], catch_exceptions=False)
    assert created.exit_code == 0, created.stderr
    assert db.exists()
    # Once it exists, no flag is needed; every command says which file it opened.
    listed = runner.invoke(app, ["accounts", "list"], catch_exceptions=False)
    assert listed.exit_code == 0
    assert f"database: {db}" in listed.stderr


def test_a_relative_sqlite_path_is_shown_resolved(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner(env={"SMSGATE_DATABASE__URL": "sqlite+aiosqlite:///./here.db"})
    result = runner.invoke(app, ["--create", "accounts", "list"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert f"database: {tmp_path / 'here.db'}" in result.stderr
