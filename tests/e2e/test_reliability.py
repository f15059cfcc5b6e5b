"""The bounded reliability campaign (the full one: bench/reliability.py, figures in
bench/RELIABILITY.md): two kill -9s of a node under load, the operator killed with its receipts
lost and the node killed with kill -9 while it is down, operator faults under load, and the
SQLite file locked under load. Each trial checks that every accepted message reaches a final
status, nothing stays reserved, money is conserved and every balance is the sum of its ledger
(the issue's balance = sum(ledger) after kill -9)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_kills_lost_receipts_operator_faults_and_a_locked_database_lose_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/reliability.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out[-4000:] + done.stderr[-4000:]
    trials = dict(re.findall(r"^\[([^\]]+)\] (ok|FAILED)", out, re.MULTILINE))
    assert trials == {
        "kill -9, sqlite, workers 1": "ok",
        "operator and node killed, receipts lost": "ok",
        "operator faults": "ok",
        "SQLite file locked": "ok",
    }, out
    # balance = sum(ledger) after every trial, the kill -9s included.
    for line in out.splitlines():
        if line.startswith("["):
            assert "balance == sum(ledger) True" in line, line
    # Enough traffic in each to prove something, and the lost receipts ended EXPIRED.
    for accepted in re.findall(r"accepted (\d+),", out):
        assert int(accepted) > 100, out
    lost = next(line for line in out.splitlines() if line.startswith("[operator and node"))
    assert "'EXPIRED'" in lost, lost
    kills = next(line for line in out.splitlines() if line.startswith("[kill -9"))
    resent = int(re.search(r"resent per kill \(max\) (\d+)", kills).group(1))  # type: ignore[union-attr]
    window = int(re.search(r"window (\d+)", kills).group(1))  # type: ignore[union-attr]
    # A kill resends at most the connector's window: the parts sent whose answer was not
    # stored yet (connector bound_resends; bench/RELIABILITY.md).
    assert resent <= window, kills
