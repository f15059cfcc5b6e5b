"""Why duplicate detection left its index: raw sqlite3 writes of accepted messages, in batches
like the accept path's, with the old index on messages (account_id, dedupe_key, created_at)
against the append-only dedupe_log of migration 0002. Prints CPU and wall µs per message.

    .venv/bin/python bench/dedupe_index.py [--messages 200000] [--batch 800]

The schema is the real one (SqlStore migrates a fresh file); only the index is put back for the
first variant. It changes nothing in src/.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sqlite3
import tempfile
import time

from smsgate.store.sql_store import SqlStore

_MESSAGE = (
    "INSERT INTO messages (id, account_id, sender, phone, text, data_coding, parts,"
    " price_per_part, status, door, integration_id, dedupe_key, created_at, expires_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_PART = (
    "INSERT INTO parts (id, message_id, seq, total, concat_ref, payload, state, due_at)"
    " VALUES (?,?,?,?,?,?,?,?)"
)
_LOG = "INSERT INTO dedupe_log (account_id, dedupe_key, created_at) VALUES (?,?,?)"


async def _fresh_database(path: str) -> int:
    store = SqlStore(f"sqlite+aiosqlite:///{path}")
    await store.open()
    account = await store.create_account("bench", rate_limit=0)
    await store.close()
    return account.id


def run(index: bool, messages: int, batch: int) -> None:
    path = f"{tempfile.mkdtemp(prefix='smsgate-dedupe-')}/s.db"
    account = asyncio.run(_fresh_database(path))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    if index:
        conn.execute(
            "CREATE INDEX ix_messages_dedupe ON messages (account_id, dedupe_key, created_at)"
        )
    mid, now = 10**12, time.time()
    cpu, wall = time.thread_time(), time.perf_counter()
    for b in range(messages // batch):
        rows, part_rows = [], []
        for _ in range(batch):
            mid += 2
            key = hashlib.blake2b(b"%d" % mid, digest_size=16).digest()
            rows.append(
                (mid, account, "smsgate", f"38050{mid % 10**7:07d}", "bench text", 0, 1, 5000,
                 "ENROUTE", "json", None, key, now, now + 86400)
            )  # fmt: skip
            part_rows.append((mid + 1, mid, 1, 1, mid & 0xFFFF, b"bench text", 0, now))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(_MESSAGE, rows)
        conn.executemany(_PART, part_rows)
        if not index:
            conn.executemany(_LOG, [(account, r[11], now) for r in rows])
        conn.execute("COMMIT")
        if b % 50 == 0:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    name = "index on messages' hash" if index else "append-only dedupe_log "
    print(
        f"{name}: {cpu / messages * 1e6:5.1f} µs CPU, "
        f"{wall / messages * 1e6:5.1f} µs wall per message"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=800)
    args = parser.parse_args()
    for index in (True, False, True, False):
        run(index, args.messages, args.batch)


if __name__ == "__main__":
    main()
