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
    # Only callbacks to this machine are allowed on top: a demo's receiver runs beside it.
    assert not real.callbacks.allow_private
    demo_of_real = demo_settings(real)
    assert demo_of_real.callbacks.allow_private
    assert demo_of_real.model_copy(update={"callbacks": real.callbacks}) == real


def _write(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "smsgate.toml"
    config.write_text(text, encoding="utf-8")
    return config


CONNECTOR = '[[connectors]]\nname = "op"\nhost = "h"\nport = 1\nsystem_id = "a"\npassword = "b"\n'


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('[database]\nulr = "postgresql+asyncpg://x"\n', "database.ulr"),
        ("nodeid = 3\n", "nodeid"),
        (CONNECTOR + 'pasword = "oops"\n', "connectors[0].pasword"),
        (CONNECTOR + '[[routes]]\nconnectors = ["op"]\nprefixx = "380"\n', "routes[0].prefixx"),
        ("[logs]\nformat = 'json'\n", "logs"),
    ],
)
def test_an_unknown_key_at_any_level_is_an_error_naming_its_path(
    tmp_path: Path, text: str, path: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(_write(tmp_path, text))
    message = str(raised.value)
    assert f"{path}: unknown setting" in message
    assert "_Layered" not in message and "\n" not in message
    assert "oops" not in message  # a mistyped key's value may be a secret


def test_an_unknown_nested_key_from_the_environment_is_an_error_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMSGATE_DATABASE__ULR", "sqlite+aiosqlite:///x.db")
    with pytest.raises(ConfigError, match=r"database\.ulr: unknown setting"):
        load_settings()


def test_a_route_naming_an_undeclared_connector_is_a_clear_error(tmp_path: Path) -> None:
    text = CONNECTOR + '[[routes]]\nprefix = "380"\nconnectors = ["op", "operator-b"]\n'
    with pytest.raises(ConfigError) as raised:
        load_settings(_write(tmp_path, text))
    assert str(raised.value) == (
        "invalid configuration: routes[0].connectors: 'operator-b' is not a declared connector (op)"
    )


def test_two_connectors_with_one_name_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="the name 'op' is declared more than once"):
        load_settings(_write(tmp_path, CONNECTOR + CONNECTOR))


def test_a_bad_secret_value_is_not_echoed(tmp_path: Path) -> None:
    text = CONNECTOR.replace('password = "b"', "password = 12345678")
    with pytest.raises(ConfigError) as raised:
        load_settings(_write(tmp_path, text))
    assert "connectors[0].password" in str(raised.value)
    assert "12345678" not in str(raised.value)


def test_a_bind_password_longer_than_smpp_allows_is_refused(tmp_path: Path) -> None:
    text = CONNECTOR.replace('password = "b"', 'password = "nine-char"')
    with pytest.raises(
        ConfigError, match=r"connectors\[0\]\.password: String should have at most 8"
    ):
        load_settings(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (
            "postgresql://smsgate:pw@db:5432/smsgate",
            "postgresql+asyncpg://smsgate:pw@db:5432/smsgate",
        ),
        ("postgres://smsgate@db/smsgate", "postgresql+asyncpg://smsgate@db/smsgate"),
        ("postgresql+asyncpg://smsgate@db/smsgate", "postgresql+asyncpg://smsgate@db/smsgate"),
        ("sqlite:///var/smsgate.db", "sqlite+aiosqlite:///var/smsgate.db"),
    ],
)
def test_a_database_url_without_a_driver_uses_the_installed_one(given: str, used: str) -> None:
    # libpq's form, as pg_dump and most hosting take it, used to fail at start ("No module
    # named 'psycopg'"): SQLAlchemy's default driver is not the one installed.
    assert load_settings(None, database={"url": given}).database.url == used


def test_a_database_url_naming_a_driver_not_installed_is_refused_without_its_password() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(None, database={"url": "postgresql+psycopg://u:s3cretpw@db/smsgate"})
    message = str(raised.value)
    assert "database.url: postgresql+psycopg:// is not installed: use postgresql+asyncpg://" in (
        message
    )
    assert "s3cretpw" not in message
