#!/usr/bin/env bash
# Interleaved before/after pairs of the door, HTTP (1 and 100 recipients) and e2e benchmarks for
# two checkouts, each with its own venv (`make deps` in each). Logs go to OUT.
#   bench/ab_pairs.sh /path/to/before /path/to/after [pairs] [out-dir]
set -euo pipefail
before=$1; after=$2; pairs=${3:-3}; out=${4:-/tmp/ab}
mkdir -p "$out"
for i in $(seq 1 "$pairs"); do
  for tree in "$before" "$after"; do
    name=$([ "$tree" = "$before" ] && echo before || echo after)
    cd "$tree/bench"
    ../.venv/bin/python smpp_door.py --messages 5000 --workers 2 > "$out/door-$name-$i.log" 2>&1
    ../.venv/bin/python http_send.py --only 1 --seconds 4 > "$out/http1-$name-$i.log" 2>&1
    ../.venv/bin/python http_send.py --only 2 --seconds 4 > "$out/http100-$name-$i.log" 2>&1
    ../.venv/bin/python e2e.py --messages 20000 --rate 0 > "$out/e2e-$name-$i.log" 2>&1
  done
done
grep -h "\[smpp door\]\|\[1\]\|\[2\]\|\[e2e\]" "$out"/*.log
