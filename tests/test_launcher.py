"""The `smsgate` command without the server extra: a hint to install it, not a traceback.

The extra's absence is simulated in a child interpreter by making one of its modules unimportable
(None in sys.modules), the way a venv with only `pip install smsgate` would behave.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from smsgate.launcher import EXIT_NOT_INSTALLED, SERVER_MODULES

WITHOUT = (
    "import sys\n"
    "for name in {blocked!r}: sys.modules[name] = None\n"
    "sys.argv = ['smsgate', {command!r}]\n"
    "from smsgate.launcher import main\n"
    "main()\n"
)


@pytest.mark.parametrize(
    "blocked",
    [
        sorted(SERVER_MODULES),
        ["pydantic", "pydantic_settings"],
        # Imported only once `serve` starts a node (the dashboard, the native API): still a
        # hint before anything runs, not a traceback half way through starting.
        ["jinja2"],
        ["fastapi"],
    ],
)
@pytest.mark.parametrize("command", ["serve", "admin"])
def test_without_the_server_extra_the_command_says_how_to_install_it(
    blocked: list[str], command: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT.format(blocked=blocked, command=command)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_NOT_INSTALLED, done.stderr
    assert "pip install 'smsgate[server]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unrelated_import_error_is_not_hidden() -> None:
    script = WITHOUT.format(blocked=["smsgate.config_commands"], command="--help")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    # Not a server module: smsgate's own room is missing, which cli.main reports as a warning.
    assert done.returncode == 0
    assert "warning: import of smsgate.config_commands halted" in done.stderr
    assert "smsgate[server]" not in done.stderr


def test_every_entry_of_the_server_extra_has_its_module_checked() -> None:
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    extra = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]["server"]
    for requirement in extra:
        distribution = re.split(r"[\[<>=;~! ]", requirement, maxsplit=1)[0]
        module = distribution.lower().replace("-", "_")
        assert module in SERVER_MODULES, f"{requirement}: add {module} to SERVER_MODULES"
