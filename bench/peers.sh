#!/usr/bin/env bash
# smsgate and Kannel side by side in one run (bench/peers.py): installs Kannel from Debian's
# package and wrk if they are missing, makes the venv, then runs every peer against the same
# neutral SMSC. Arguments go to peers.py, e.g. `bench/peers.sh --seconds 10 --repeat 3`.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
[ -x /usr/sbin/bearerbox ] || missing+=(kannel)
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The Debian package starts its own bearerbox on install where services may start: stop it so
# it neither takes ports nor CPU from the run.
if command -v systemctl >/dev/null && systemctl is-active --quiet kannel 2>/dev/null; then
  systemctl stop kannel
fi
make -s deps
exec .venv/bin/python bench/peers.py "$@"
