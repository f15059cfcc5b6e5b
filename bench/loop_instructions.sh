#!/bin/bash
# Instructions the event-loop thread spends per request on the accept path, counted by callgrind
# (exact where wall-clock figures on a shared 2-core machine are noise): bench/submit_cpu.py is
# run with N and 2N requests and the difference divided by N, so start-up and warm-up cancel out.
# Only thread 1 (the loop) is counted, so with --sql the SQLite writer thread is left out.
#
#   bench/loop_instructions.sh SRC N [submit_cpu.py options]
#   bench/loop_instructions.sh src 1000 --warmup 200                   # 1 recipient
#   bench/loop_instructions.sh src 40 --warmup 10 --recipients 100     # per request of 100
#   bench/loop_instructions.sh /tmp/old/src 500 --warmup 100 --sql     # another tree, real store
#
# SRC is the `src` directory of the tree to measure (PYTHONPATH), so two trees can be compared
# with the same benchmark script; run them side by side (one per core).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$1
n=$2
shift 2
extra=("$@")
instructions() {
  local dir
  dir=$(mktemp -d)
  PYTHONPATH=$src valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$dir/cg.out" .venv/bin/python bench/submit_cpu.py --rounds 1 \
    --requests "$1" "${extra[@]}" >/dev/null 2>&1
  awk '/^summary:/ {print $2}' "$dir/cg.out-01"
  rm -rf "$dir"
}
one=$(instructions "$n")
two=$(instructions $((2 * n)))
echo "$src ${extra[*]}: $(((two - one) / n)) loop-thread instructions per request"
