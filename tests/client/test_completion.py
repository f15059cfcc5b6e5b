"""Shell completion of `sms` and `smsgate`, as the installed commands answer the shell (typer's
completion protocol through the console scripts), and the script `--show-completion` prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smsgate.client.cli import app

BIN = Path(sys.executable).parent


def complete(command: str, words: str) -> list[str]:
    script = BIN / command
    if not script.exists():
        pytest.fail(f"{script} is not installed: run `make deps`")
    env = {
        **os.environ,
        f"_{command.upper()}_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    done = subprocess.run([script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_sms_completes_its_commands_and_subcommands() -> None:
    assert complete("sms", "sms mes") == ["messages"]
    assert complete("sms", "sms messages s") == ["show"]
    assert "--at" in complete("sms", "sms send --a")


def test_smsgate_completes_its_commands_and_the_admin_groups() -> None:
    assert complete("smsgate", "smsgate ser") == ["serve"]
    assert complete("smsgate", "smsgate admin web") == ["webhooks"]


def test_show_completion_prints_the_script_for_the_shell_named() -> None:
    result = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="sms")
    assert result.exit_code == 0
    assert "_SMS_COMPLETE=complete_bash" in result.stdout
    assert "complete -o default -F _sms_completion sms" in result.stdout
