"""Alembic's entry point, driven by smsgate.store.migrate with a live connection handed in
through `config.attributes`; it never opens connections of its own or reads alembic.ini."""

from __future__ import annotations

from alembic import context

from smsgate.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things: later revisions rebuild tables in batch mode.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
