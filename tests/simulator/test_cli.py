"""The simulator's command line: options become a config, and `python -m` runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading

from typer.testing import CliRunner

from smsgate.simulator.cli import _credentials, app


def test_credentials_come_from_pairs_and_repeated_options() -> None:
    assert _credentials(["a", "b"], ["1", "2"], ["c:3"]) == [("a", "1"), ("b", "2"), ("c", "3")]
    assert _credentials([], [], []) == [("smsgate", "sim")]


def test_a_bad_mix_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["--mix", "DELIVRD"])
    assert result.exit_code == 2
    assert "STAT=WEIGHT" in result.output


def test_python_dash_m_starts_a_listening_simulator() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "smsgate.simulator", "--port", "0", "--credential", "u:p"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    # readline() blocks; the watchdog ends the child (and so the read) if it never says a word.
    watchdog = threading.Timer(15.0, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        line = ""
        for _ in range(20):
            line = proc.stdout.readline()
            if "listening" in line:
                break
        match = re.search(r"listening on 127\.0\.0\.1:(\d+) \(system_id: u\)", line)
        assert match and int(match.group(1)) > 0, line
    finally:
        watchdog.cancel()
        proc.terminate()
        proc.wait(timeout=10)
