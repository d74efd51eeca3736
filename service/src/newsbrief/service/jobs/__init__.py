"""Durable background jobs, transport-free: the store (SQLite or PostgreSQL, schema migrated by
Alembic at start), the runner that claims jobs with row locks and briefs their articles through
an injected callable, retention, and the signed webhook delivery of finished jobs.

Nothing here knows gRPC or HTTP: ``serving/jobs.py`` turns the calls of JobService into calls of
:class:`~newsbrief.service.jobs.store.JobStore`, and the runner briefs an article with an async
``brief(request, tenant)`` that raises the domain errors of ``errors.py``."""
