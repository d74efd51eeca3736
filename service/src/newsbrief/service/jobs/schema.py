"""The tables of the jobs store (SQLAlchemy Core) at the newest revision. A new database is
created from them (and stamped with that revision); the migrations under ``migrations/`` bring an
older one there: a change here needs a new migration there and a new ``store.HEAD_REVISION``
(tests/jobs/test_jobs_unit.py holds the two ways to the same database).

Times are Unix seconds (float, wall clock: they are compared across replicas). Protobuf
payloads (the article's SummarizeRequest, its SummarizeResponse and ItemStatus) are stored as
their serialised bytes."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(64), primary_key=True),
    # SHA-256 hex of the creator's API key ("" on a server without keys)
    Column("tenant", String(64), nullable=False),
    Column("idempotency_key", String(256), nullable=True),
    # SHA-256 of the CreateJobRequest without its idempotency key
    Column("request_hash", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Column("expires_at", Float, nullable=True),
    Column("callback_url", Text, nullable=True),
    Column("article_count", Integer, nullable=False),
    Column("succeeded_count", Integer, nullable=False, default=0),
    Column("failed_count", Integer, nullable=False, default=0),
    # the replica holding the job, until when, and a number raised at each claim (fencing)
    Column("lease_owner", String(128), nullable=True),
    Column("lease_until", Float, nullable=False, default=0.0),
    Column("lease_token", Integer, nullable=False, default=0),
    UniqueConstraint("tenant", "idempotency_key", name="uq_jobs_tenant_idempotency_key"),
    Index("ix_jobs_state_lease", "state", "lease_until"),
    Index("ix_jobs_tenant_created", "tenant", "created_at"),
    Index("ix_jobs_expires", "expires_at"),
)

articles = Table(
    "job_articles",
    metadata,
    Column("job_id", String(64), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("state", String(16), nullable=False),
    Column("client_reference", Text, nullable=False, default=""),
    Column("request", LargeBinary, nullable=False),
    Column("response", LargeBinary, nullable=True),
    Column("status", LargeBinary, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("finished_at", Float, nullable=True),
)

deliveries = Table(
    "job_deliveries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "job_id",
        String(64),
        ForeignKey("jobs.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("state", String(16), nullable=False),
    Column("url", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("first_attempt_at", Float, nullable=True),
    Column("delivered_at", Float, nullable=True),
    Column("attempt_count", Integer, nullable=False, default=0),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_until", Float, nullable=False, default=0.0),
    Index("ix_job_deliveries_due", "state", "next_attempt_at"),
)

attempts = Table(
    "job_delivery_attempts",
    metadata,
    Column(
        "delivery_id",
        String(64),
        ForeignKey("job_deliveries.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("n", Integer, primary_key=True),
    Column("at", Float, nullable=False),
    Column("http_status", Integer, nullable=False, default=0),
    Column("error", Text, nullable=False, default=""),
    Column("duration_ms", Float, nullable=False, default=0.0),
)
