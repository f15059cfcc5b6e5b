#!/usr/bin/env bash
# Every benchmark of bench/RESULTS.md "Session 4", one after another, on the checked-out tree;
# each run's output in /tmp/bo/<name>.out, the last lines of each in /tmp/bo/all.log.
mkdir -p /tmp/bo
cd "$(dirname "$0")"
PY=../.venv/bin/python
run() { local name=$1; shift; echo "=== $name: $* ($(date +%T), load $(cut -d' ' -f1 /proc/loadavg))" | tee -a /tmp/bo/all.log; timeout 900 "$@" > /tmp/bo/$name.out 2>&1; tail -4 /tmp/bo/$name.out | tee -a /tmp/bo/all.log; }
git log --oneline -1 | tee -a /tmp/bo/all.log
run codec $PY smpp_codec.py --seconds 2
run session $PY smpp_session.py --messages 30000
run http_all $PY http_send.py --seconds 8
run http1_off $PY http_send.py --operator off --connections 64 --seconds 8 --only 1
run http1_off32 $PY http_send.py --operator off --connections 32 --seconds 8 --only 1
run http_p99 $PY http_send.py --only 3 --seconds 8
run http100_off $PY http_send.py --operator off --seconds 8 --only 2
run inproc1 $PY accept_inprocess.py --requests 30000
run inproc100 $PY accept_inprocess.py --recipients 100 --callers 8 --requests 1000
run dispatch $PY dispatch.py --messages 50000
run e2e $PY e2e.py --messages 200000
run e2e_6000 $PY e2e.py --messages 200000 --rate 6000
run door $PY smpp_door.py --messages 20000
run workers_send $PY workers.py --only send
run workers_send_off $PY workers.py --only send --connectors 0 --connections 64
run workers_send_off128 $PY workers.py --only send --connectors 0 --connections 128
run workers_e2e1 $PY workers.py --only e2e
run workers_e2e2 $PY workers.py --only e2e --connectors 2
run workers_e2e2_9000 $PY workers.py --only e2e --connectors 2 --rate 9000 --messages 200000
run workers_pg $PY workers.py --only pg
run status $PY status_read.py
echo "=== done $(date +%T)" | tee -a /tmp/bo/all.log
