"""Fixtures for the store suite: every test runs on SQLite (a temp dir) and on PostgreSQL (a
throwaway cluster started once per session, one fresh database per test).

A missing or broken PostgreSQL fails the suite loudly; it is never skipped.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from smsgate.store.sql_store import SqlStore

ENGINES = ("sqlite", "postgresql")


def _pg_binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if candidates:
        return candidates[-1]
    pytest.fail(
        f"PostgreSQL's {name} is neither on PATH nor in /usr/lib/postgresql/*/bin: "
        "install the server (make postgres-deps) to run the store tests",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user() -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user instead."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--"]
    return [
        shutil.which("setpriv") or "setpriv",
        "--reuid=postgres",
        "--regid=postgres",
        "--clear-groups",
    ]


@dataclass(frozen=True)
class PgCluster:
    port: int
    user: str = "smsgate"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{database}"

    async def admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            host="127.0.0.1", port=self.port, user=self.user, database="postgres", timeout=10
        )


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    prefix = _as_user()
    root = Path(tempfile.mkdtemp(prefix="smsgate-pg-"))
    data = root / "data"
    log = root / "postgres.log"
    if prefix:
        shutil.chown(root, user="postgres")
    port = _free_port()
    cluster = PgCluster(port)

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            logged = log.read_text() if log.exists() else ""
            pytest.fail(
                f"PostgreSQL test cluster: {' '.join(args[:2])} failed ({done.returncode})\n"
                f"{done.stdout}\n{done.stderr}\n{logged}",
                pytrace=False,
            )

    run(initdb, "-D", str(data), "-U", cluster.user, "--auth=trust", "-E", "UTF8", "--no-sync")
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    run(pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start")
    try:
        yield cluster
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


_database_numbers = itertools.count(1)


@pytest.fixture
async def pg_database(pg_cluster: PgCluster) -> AsyncIterator[str]:
    """A fresh, empty database's URL; dropped after the test."""
    name = f"t{os.getpid()}_{next(_database_numbers)}"
    admin = await pg_cluster.admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield pg_cluster.url(name)
    admin = await pg_cluster.admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if engine_name == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/db/smsgate.db"
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[SqlStore]:
    s = SqlStore(store_url, commit_window=0.001)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def second_store(store_url: str, store: SqlStore) -> AsyncIterator[SqlStore]:
    """Another node on the same database: its own engines and writer."""
    s = SqlStore(store_url, node_id=2, commit_window=0.001)
    await s.open()
    try:
        yield s
    finally:
        await s.close()
