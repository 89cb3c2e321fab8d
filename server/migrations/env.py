"""Alembic environment: always run programmatically by `server.database.migrate`
with an open connection in `config.attributes["connection"]`."""

from __future__ import annotations

from alembic import context

from server.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable via the alembic CLI
    raise SystemExit("Run migrations through the server: python -m server migrates at start.")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
