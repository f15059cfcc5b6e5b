"""Where a node's writes hold the database's write lock under the side-by-side load.

SQLite has one write lock per database file; with `--workers N` every worker's writer takes
turns on it, so the time it is held is a ceiling no added CPU lifts. This runs one peer of
bench/peers.py (default smsgate-w2) with write_lock_probe/sitecustomize.py loaded into the
node's processes, and prints for each process that wrote, over its busiest `--window`
seconds: the share of wall time it held the lock, waited for it, and spent CPU while holding
it, and that CPU by job (µs a message at the run's end-to-end rate).

    .venv/bin/python bench/write_lock.py --peer smsgate-w2 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def busiest(snapshots: list[dict[str, object]], window: int) -> tuple[dict, dict] | None:
    """The two snapshots `window` apart between which the lock was held longest."""
    pairs = [(snapshots[i], snapshots[i + window]) for i in range(len(snapshots) - window)]
    if not pairs:
        return None
    return max(pairs, key=lambda p: float(p[1]["held"]) - float(p[0]["held"]))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer", default="smsgate-w2")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--window", type=int, default=4, help="seconds of the busiest stretch")
    args = parser.parse_args()
    probes = Path(tempfile.mkdtemp(prefix="write-lock-"))
    env = dict(os.environ)
    env["SMSGATE_WRITE_LOCK_PROBE"] = str(probes / "probe")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(HERE / "write_lock_probe"), env.get("PYTHONPATH", "")) if p
    )
    command = [sys.executable, str(HERE / "peers.py"), "--peers", args.peer]
    command += ["--seconds", str(args.seconds), "--repeat", "1"]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    row = next(line for line in out.splitlines() if line.startswith(f"| {args.peer} "))
    print(row)
    e2e = float(row.split("|")[4].replace(",", ""))
    for probe in sorted(probes.iterdir()):
        snapshots = [json.loads(line) for line in probe.read_text().splitlines()]
        found = busiest(snapshots, args.window)
        if found is None or found[1]["txns"] == found[0]["txns"]:
            continue
        a, b = found
        span = b["t"] - a["t"]
        share = {k: (b[k] - a[k]) / span for k in ("held", "waited", "cpu")}
        print(
            f"process {probe.suffix[1:]}: lock held {share['held']:.0%} of the time, waited "
            f"{share['waited']:.0%}, CPU while holding it {share['cpu']:.0%} of a core, "
            f"{(b['txns'] - a['txns']) / span:,.0f} transactions/s"
        )
        jobs = {k: (v - a["jobs"].get(k, 0.0)) / span for k, v in b["jobs"].items()}
        for name, cpu in sorted(jobs.items(), key=lambda kv: -kv[1])[:6]:
            if cpu > 0:
                print(f"    {name}: {cpu:.0%} of a core, {cpu / e2e * 1e6:.1f} µs a message")


if __name__ == "__main__":
    main()
