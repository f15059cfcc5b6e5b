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
        app, ["accounts", "create", "alice", "--config", str(config)], catch_exceptions=False
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
