"""Alembic environment of the jobs store: runs on the connection that
:func:`newsbrief.service.jobs.migrate.upgrade` passes in (inside its transaction and lock)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
