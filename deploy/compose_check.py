"""`make compose-check`: the setup of deploy/compose.yaml, run without Docker.

It reads the compose file, checks what a typo would break (each node on PostgreSQL through
asyncpg, distinct node ids and published ports, the mounted config valid), then starts the same
services as local processes: a throwaway PostgreSQL cluster, the operator simulator with the
compose file's command, and both smsgate nodes with the compose file's environment (service
names become 127.0.0.1, container ports become free local ports). It creates an account with a
tariff and a sender name, sends through each node and waits for DELIVRD through the other.

It never touches Docker nor a real database; everything it starts it stops.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml  # type: ignore[import-untyped]

DEPLOY = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
SMSGATE = str(BIN / "smsgate")
NODES = ("smsgate-1", "smsgate-2")
TIMEOUT = 60.0
PG_PASSWORD = "compose-check"


def fail(message: str) -> None:
    raise SystemExit(f"compose-check: {message}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def interpolate(value: str) -> str:
    """Compose's ${VAR} and ${VAR:?message}, with POSTGRES_PASSWORD set as the check sets it."""
    env = {"POSTGRES_PASSWORD": PG_PASSWORD}
    return re.sub(r"\$\{(\w+)(?::\?[^}]*)?\}", lambda m: env[m.group(1)], value)


def read_compose() -> dict[str, Any]:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose.get("services", {})
    for name in ("postgres", "operator-simulator", *NODES):
        if name not in services:
            fail(f"compose.yaml has no service {name!r}")
    ids, published = set(), []
    for name in NODES:
        node = services[name]
        env = {k: interpolate(str(v)) for k, v in node["environment"].items()}
        if not env["SMSGATE_DATABASE__URL"].startswith("postgresql+asyncpg://"):
            fail(f"{name}: SMSGATE_DATABASE__URL must be postgresql+asyncpg://")
        ids.add(env["SMSGATE_NODE_ID"])
        published += [p.split(":")[0] for p in node["ports"]]
        if node["depends_on"]["postgres"]["condition"] != "service_healthy":
            fail(f"{name}: must wait for a healthy postgres")
        mounts = [v.split(":") for v in node["volumes"]]
        if not any((DEPLOY / src).is_file() for src, *_ in mounts):
            fail(f"{name}: the mounted config file is missing")
    for name, service in services.items():
        # An image no registry has: a service that only names it may be pulled, and fail.
        if service.get("image") == services["operator-simulator"]["image"] and not service.get(
            "build"
        ):
            fail(f"{name}: uses the local smsgate image without `build:`")
    if len(ids) != len(NODES):
        fail("two nodes share SMSGATE_NODE_ID")
    if len(set(published)) != len(published):
        fail("two nodes publish the same host port")
    return dict(services)


def _pg_binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        fail(f"PostgreSQL's {name} is not installed (make postgres-deps)")
    assert found is not None
    return found


def _as_postgres() -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user instead."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return ["runuser", "-u", "postgres", "--"]


@contextlib.contextmanager
def postgres() -> Iterator[int]:
    """A throwaway cluster with the compose file's user and database; yields its port."""
    prefix, port = _as_postgres(), free_port()
    root = Path(tempfile.mkdtemp(prefix="smsgate-compose-pg-"))
    if prefix:
        shutil.chown(root, user="postgres")
    data, log = root / "data", root / "postgres.log"
    pg_ctl = _pg_binary("pg_ctl")

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)
        if done.returncode:
            fail(f"{args[0]} failed: {done.stderr}{log.read_text() if log.exists() else ''}")

    run(_pg_binary("initdb"), "-D", str(data), "-U", "smsgate", "--auth=trust", "--no-sync")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root}"
    run(pg_ctl, "-D", str(data), "-l", str(log), "-w", "-o", options, "start")
    try:
        run(_pg_binary("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "smsgate", "smsgate")
        yield port
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def wait_for(what: str, check: Any, proc: subprocess.Popen[bytes], log: Path) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"{what}: the process exited ({proc.returncode}):\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
            found = check()
            if found:
                return found
        time.sleep(0.2)
    fail(f"{what}: not in {TIMEOUT:g}s:\n{log.read_text()[-4000:]}")


def node_env(service: dict[str, Any], pg_port: int, sim_port: int) -> dict[str, str]:
    """The service's environment as a local process gets it: service hosts become 127.0.0.1,
    the container ports free local ones, and the doors listen on loopback only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSGATE_")}
    for key, value in service["environment"].items():
        env[key] = interpolate(str(value)).replace("@postgres:5432/", f"@127.0.0.1:{pg_port}/")
    connectors = [
        {
            "name": "operator-simulator",
            "host": "127.0.0.1",
            "port": sim_port,
            "system_id": "smsgate",
            "password": "sim",
        }
    ]
    env.update(
        SMSGATE_HTTP__HOST="127.0.0.1",
        SMSGATE_HTTP__PORT=str(free_port()),
        SMSGATE_SMPP__HOST="127.0.0.1",
        SMSGATE_SMPP__PORT=str(free_port()),
        SMSGATE_CONNECTORS=json.dumps(connectors),
    )
    return env


def admin(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [SMSGATE, "admin", *args, "--config", str(DEPLOY / "smsgate.toml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    if done.returncode:
        fail(f"smsgate admin {' '.join(args)}: {done.stderr}")
    return done.stdout


def main() -> None:
    services = read_compose()
    sim_command = list(services["operator-simulator"]["command"])
    with tempfile.TemporaryDirectory(prefix="smsgate-compose-") as tmp, postgres() as pg_port:
        logs = Path(tmp)
        sim_port = free_port()
        sim_args = [SMSGATE, *sim_command]
        sim_args[sim_args.index("--port") + 1] = str(sim_port)
        sim_args[sim_args.index("--host") + 1] = "127.0.0.1"
        envs = {n: node_env(services[n], pg_port, sim_port) for n in NODES}
        checked = subprocess.run(
            [SMSGATE, "config", "check", "--config", str(DEPLOY / "smsgate.toml")],
            env=envs[NODES[0]],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        if checked.returncode:
            fail(f"deploy/smsgate.toml: {checked.stderr}")
        with contextlib.ExitStack() as stack:
            sim_log = logs / "simulator.log"
            stack.enter_context(process(sim_args, dict(os.environ), sim_log))
            bases = {}
            for name in NODES:  # one after the other: the first migrates the empty database
                log = logs / f"{name}.log"
                env = envs[name]
                proc = stack.enter_context(
                    process([SMSGATE, "serve", "--config", str(DEPLOY / "smsgate.toml")], env, log)
                )
                base = f"http://127.0.0.1:{env['SMSGATE_HTTP__PORT']}"
                health = wait_for(
                    f"{name} /health", lambda b=base: httpx.get(f"{b}/health").json(), proc, log
                )
                print(f"{name}: node {health['node_id']} at {base}")
                bases[name] = (base, proc, log)
            node_ids = {httpx.get(f"{b}/health").json()["node_id"] for b, _, _ in bases.values()}
            if len(node_ids) != len(NODES):
                fail(f"the nodes did not take distinct ids: {node_ids}")
            env = envs[NODES[0]]
            out = admin(env, "accounts", "create", "acme")
            token = re.search(r"API token \(shown once, store it now\): (\S+)", out)
            if token is None:
                fail(f"no token in: {out}")
            assert token is not None
            admin(env, "balance", "top-up", "acme", "100")
            admin(env, "tariffs", "set", "380", "0.55")
            admin(env, "senders", "add", "acme", "AcmeShop")
            headers = {"Authorization": f"Bearer {token.group(1)}"}
            for sender, reader in ((NODES[0], NODES[1]), (NODES[1], NODES[0])):
                base, proc, log = bases[sender]
                sent = httpx.post(
                    f"{base}/sms/send",
                    headers=headers,
                    timeout=10,
                    json={
                        "phone": ["380501234567"],
                        "message": f"via {sender}",
                        "src_addr": "AcmeShop",
                    },
                ).json()
                info = sent.get("success_request", {}).get("info")
                if not info:
                    fail(f"send through {sender} refused: {sent}")
                (message_id,) = info
                other, other_proc, other_log = bases[reader]

                def delivered(b: str = other, i: str = message_id) -> bool:
                    status = httpx.post(
                        f"{b}/sms/status", headers=headers, json={"id_sms": [i]}, timeout=10
                    ).json()
                    return bool(status["success_request"]["info"][i] == "DELIVRD")

                wait_for(f"{message_id} DELIVRD seen by {reader}", delivered, other_proc, other_log)
                print(f"sent through {sender}, DELIVRD seen through {reader}")
    print("compose-check: ok")


if __name__ == "__main__":
    main()
