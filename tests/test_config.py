from pathlib import Path

import pytest

from smsgate.config import ConfigError, demo_settings, load_settings


def test_defaults_need_nothing_else() -> None:
    settings = load_settings()
    assert settings.database.url.startswith("sqlite+aiosqlite:///")
    assert settings.database.synchronous == "NORMAL"


def test_environment_overrides_the_file_and_arguments_override_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "smsgate.toml"
    config.write_text('[database]\nurl = "sqlite+aiosqlite:///file.db"\n[http]\nport = 9000\n')
    assert load_settings(config).http.port == 9000
    monkeypatch.setenv("SMSGATE_DATABASE__URL", "sqlite+aiosqlite:///env.db")
    settings = load_settings(config)
    assert settings.database.url == "sqlite+aiosqlite:///env.db"
    assert settings.http.port == 9000
    assert load_settings(config, http={"port": 9100}).http.port == 9100


def test_unreadable_or_invalid_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_settings(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[http]\nport = 'eighty'\n")
    with pytest.raises(ConfigError):
        load_settings(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("[http\n")
    with pytest.raises(ConfigError):
        load_settings(broken)


def test_demo_adds_the_simulator_only_when_no_operator_is_configured() -> None:
    demo = demo_settings(load_settings())
    assert demo.simulator.enabled
    assert [c.name for c in demo.connectors] == ["simulator"]
    real = load_settings(
        None,
        connectors=[
            {"name": "op", "host": "127.0.0.1", "port": 1, "system_id": "a", "password": "b"}
        ],
    )
    assert demo_settings(real) == real
