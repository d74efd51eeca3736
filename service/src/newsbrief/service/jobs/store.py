"""The jobs store: one database (SQLite file or PostgreSQL) shared by every replica.

All methods are blocking and short; the async code calls them through :meth:`JobStore.call`,
which runs them on the store's own small thread pool (never on the event loop).

Who runs what is decided by leases on the job rows: :meth:`claim` takes the oldest job that is
queued, or running with a lapsed lease, and raises its ``lease_token``. On PostgreSQL the
candidate row is locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` (two replicas never take the
same job, and neither waits for the other); on SQLite every write transaction starts with
``BEGIN IMMEDIATE`` (one writer at a time), so the select-then-update is atomic. Every write of
the holder names its owner and token, and an article's result is written only while the article
has none: a replica that lost its lease (paused past it, or killed) cannot finish an article or a
job a second time.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import functools
import json
import logging
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    Update,
    and_,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from newsbrief.service.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound
from newsbrief.service.jobs.schema import articles, attempts, deliveries, jobs, metadata

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: PostgreSQL advisory lock key held while migrating (two replicas starting at once)
MIGRATION_LOCK = 0x6E657773627269  # "newsbri"
#: The newest revision under ``migrations/versions`` (a unit test holds it to Alembic's head): a
#: database already there needs no migration, and no child process to run Alembic (:func:`migrate`)
HEAD_REVISION = "0001"

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
)
OPEN_STATES = (QUEUED, RUNNING)
FINAL_STATES = (SUCCEEDED, FAILED, CANCELLED)
PENDING, DELIVERED = "pending", "delivered"


class StoreUnavailable(RuntimeError):
    """The jobs database cannot be opened or migrated (the message says which and why)."""


@dataclass(frozen=True)
class ArticleRow:
    index: int
    state: str
    client_reference: str
    attempts: int
    response: bytes | None
    status: bytes | None


@dataclass(frozen=True)
class AttemptRow:
    at: float
    http_status: int
    error: str
    duration_ms: float


@dataclass(frozen=True)
class DeliveryRow:
    id: str
    state: str
    delivered_at: float | None
    attempts: tuple[AttemptRow, ...]


@dataclass(frozen=True)
class JobRow:
    id: str
    tenant: str
    state: str
    created_at: float
    updated_at: float
    finished_at: float | None
    expires_at: float | None
    idempotency_key: str
    callback_url: str
    article_count: int
    succeeded_count: int
    failed_count: int
    articles: tuple[ArticleRow, ...] = ()
    delivery: DeliveryRow | None = None


@dataclass(frozen=True)
class Claim:
    """A job this replica holds: write only with this owner and token."""

    job_id: str
    tenant: str
    owner: str
    token: int


@dataclass(frozen=True)
class PendingArticle:
    index: int
    request: bytes
    attempts: int


@dataclass(frozen=True)
class DeliveryWork:
    id: str
    job_id: str
    url: str
    attempt_count: int
    first_attempt_at: float | None


@dataclass(frozen=True)
class NewArticle:
    client_reference: str
    request: bytes


def sqlalchemy_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` use psycopg 3; other URLs are SQLAlchemy's."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redacted(url: str) -> str:
    """The URL without its password, for logs and errors."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable URL>"


class JobStore:
    """The jobs database. ``open()`` connects and migrates (Alembic, under a lock)."""

    def __init__(self, url: str, *, threads: int = 4) -> None:
        self.url = sqlalchemy_url(url)
        self._engine: Engine | None = None
        self._pool = concurrent.futures.ThreadPoolExecutor(threads, "newsbrief-jobs-db")
        self._closed = threading.Event()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise StoreUnavailable("the jobs store is not open")
        return self._engine

    def open(self) -> None:
        """Connect and bring the schema to the newest revision (raises StoreUnavailable)."""
        try:
            self._engine = _engine(self.url)
            migrate(self._engine)
        except StoreUnavailable:
            raise
        except MigrationFailed as exc:  # in the child process: its exception's type and line
            raise StoreUnavailable(
                f"cannot open the jobs database {redacted(self.url)}: {exc.kind}: {exc.line}"
            ) from exc
        except Exception as exc:
            raise StoreUnavailable(
                f"cannot open the jobs database {redacted(self.url)}: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            ) from exc

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking store method on the store's thread pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    # --- the API's calls ----------------------------------------------------------------------

    def create(
        self,
        *,
        job_id: str,
        tenant: str,
        idempotency_key: str,
        request_hash: str,
        callback_url: str,
        items: list[NewArticle],
        now: float,
    ) -> tuple[JobRow, bool]:
        """Insert a queued job, or return the job of the same idempotency key (created False).
        The same key with another request hash is AlreadyExists."""
        if idempotency_key:
            found = self._by_key(tenant, idempotency_key, request_hash)
            if found is not None:
                return found, False
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(jobs).values(
                        id=job_id,
                        tenant=tenant,
                        idempotency_key=idempotency_key or None,
                        request_hash=request_hash,
                        state=QUEUED,
                        created_at=now,
                        updated_at=now,
                        callback_url=callback_url or None,
                        article_count=len(items),
                        succeeded_count=0,
                        failed_count=0,
                        lease_until=0.0,
                        lease_token=0,
                    )
                )
                conn.execute(
                    insert(articles),
                    [
                        {
                            "job_id": job_id,
                            "idx": i,
                            "state": QUEUED,
                            "client_reference": item.client_reference,
                            "request": item.request,
                            "attempts": 0,
                        }
                        for i, item in enumerate(items)
                    ],
                )
        except IntegrityError:
            # another call with the same key won the race: answer with its job
            found = self._by_key(tenant, idempotency_key, request_hash) if idempotency_key else None
            if found is None:
                raise
            return found, False
        return self.get(tenant, job_id), True

    def _by_key(self, tenant: str, key: str, request_hash: str) -> JobRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(jobs.c.id, jobs.c.request_hash).where(
                    jobs.c.tenant == tenant, jobs.c.idempotency_key == key
                )
            ).first()
        if row is None:
            return None
        if row.request_hash != request_hash:
            raise AlreadyExists(
                f"idempotency key {key!r} was used for another request (job {row.id}); "
                "use a new key for a new request"
            )
        return self.get(tenant, row.id)

    def get(self, tenant: str | None, job_id: str, *, with_articles: bool = True) -> JobRow:
        """The job (NotFound when absent or another tenant's; ``tenant`` None: any tenant)."""
        with self.engine.connect() as conn:
            query = select(jobs).where(jobs.c.id == job_id)
            if tenant is not None:
                query = query.where(jobs.c.tenant == tenant)
            row = conn.execute(query).first()
            if row is None:
                raise NotFound(f"no job {job_id!r}")
            items: tuple[ArticleRow, ...] = ()
            if with_articles:
                items = tuple(
                    ArticleRow(
                        index=a.idx,
                        state=a.state,
                        client_reference=a.client_reference,
                        attempts=a.attempts,
                        response=a.response,
                        status=a.status,
                    )
                    for a in conn.execute(
                        select(articles).where(articles.c.job_id == job_id).order_by(articles.c.idx)
                    )
                )
            return _job_row(row, items, _delivery(conn, job_id))

    def page(
        self,
        tenant: str,
        *,
        state: str = "",
        created_after: float | None = None,
        created_before: float | None = None,
        limit: int,
        page_token: str = "",
    ) -> tuple[list[JobRow], str]:
        """One page of the tenant's jobs, newest first, and the token of the next page."""
        query = select(jobs).where(jobs.c.tenant == tenant)
        if state:
            query = query.where(jobs.c.state == state)
        if created_after is not None:
            query = query.where(jobs.c.created_at >= created_after)
        if created_before is not None:
            query = query.where(jobs.c.created_at < created_before)
        if page_token:
            at, last_id = _decode_token(page_token)
            query = query.where(
                or_(jobs.c.created_at < at, and_(jobs.c.created_at == at, jobs.c.id < last_id))
            )
        query = query.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
            page = [_job_row(r, (), _delivery(conn, r.id)) for r in rows[:limit]]
        token = ""
        if len(rows) > limit:
            last = page[-1]
            token = _encode_token(last.created_at, last.id)
        return page, token

    def cancel(self, tenant: str, job_id: str, *, now: float, retention_s: float) -> JobRow:
        """Cancel an open job (its articles without an outcome are cancelled); a finished job
        is returned unchanged."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.tenant == tenant, jobs.c.state.in_(OPEN_STATES))
                .values(**_finished(CANCELLED, now, retention_s))
            ).rowcount
            if done:
                conn.execute(
                    update(articles)
                    .where(articles.c.job_id == job_id, articles.c.state.in_(OPEN_STATES))
                    .values(state=CANCELLED, finished_at=now)
                )
                _add_delivery(conn, job_id, now)
        return self.get(tenant, job_id)

    # --- the runner's calls -------------------------------------------------------------------

    def claim(self, owner: str, *, now: float, lease_s: float) -> Claim | None:
        """Take the oldest job that is queued or whose holder's lease lapsed, or None."""
        with self.engine.begin() as conn:
            row = _take_first(
                conn,
                select(jobs.c.id, jobs.c.tenant)
                .where(jobs.c.state.in_(OPEN_STATES), jobs.c.lease_until < now)
                .order_by(jobs.c.created_at, jobs.c.id),
            )
            if row is None:
                return None
            claimed = conn.execute(
                update(jobs)
                .where(
                    jobs.c.id == row.id,
                    jobs.c.state.in_(OPEN_STATES),
                    jobs.c.lease_until < now,
                )
                .values(
                    state=RUNNING,
                    lease_owner=owner,
                    lease_until=now + lease_s,
                    lease_token=jobs.c.lease_token + 1,
                    updated_at=now,
                )
                .returning(jobs.c.lease_token)
            ).first()
            if claimed is None:
                return None
        return Claim(row.id, row.tenant, owner, int(claimed.lease_token))

    def _held(self, claim: Claim) -> Any:
        """The condition that ``claim`` still holds its job and the job is running."""
        return and_(
            jobs.c.id == claim.job_id,
            jobs.c.lease_owner == claim.owner,
            jobs.c.lease_token == claim.token,
            jobs.c.state == RUNNING,
        )

    def renew(self, claim: Claim, *, now: float, lease_s: float) -> bool:
        """Extend the lease; False when it was lost (taken over, cancelled)."""
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    update(jobs).where(self._held(claim)).values(lease_until=now + lease_s)
                ).rowcount
            )

    def release(self, claim: Claim) -> None:
        """Give the job up (this replica stops): another replica may take it at once."""
        with self.engine.begin() as conn:
            conn.execute(
                update(jobs).where(self._held(claim)).values(lease_owner=None, lease_until=0.0)
            )

    def pending(self, job_id: str) -> list[PendingArticle]:
        """The job's articles without an outcome, in order."""
        with self.engine.connect() as conn:
            return [
                PendingArticle(r.idx, r.request, r.attempts)
                for r in conn.execute(
                    select(articles.c.idx, articles.c.request, articles.c.attempts)
                    .where(articles.c.job_id == job_id, articles.c.state.in_(OPEN_STATES))
                    .order_by(articles.c.idx)
                )
            ]

    def _open_article(self, claim: Claim, index: int) -> Update:
        """An update of article ``index`` of the claimed job, while it has no outcome and the
        claim still holds the job."""
        return update(articles).where(
            articles.c.job_id == claim.job_id,
            articles.c.idx == index,
            articles.c.state.in_(OPEN_STATES),
            exists().where(self._held(claim)),
        )

    def start_article(self, claim: Claim, index: int) -> int | None:
        """Mark the article running and count the attempt; its attempts so far, or None when
        the job is no longer held."""
        with self.engine.begin() as conn:
            row = conn.execute(
                self._open_article(claim, index)
                .values(state=RUNNING, attempts=articles.c.attempts + 1)
                .returning(articles.c.attempts)
            ).first()
        return None if row is None else int(row.attempts)

    def finish_article(
        self,
        claim: Claim,
        index: int,
        *,
        ok: bool,
        response: bytes | None,
        status: bytes,
        now: float,
    ) -> bool:
        """Write the article's outcome, once: False when it has one already or the job is no
        longer held (nothing written)."""
        with self.engine.begin() as conn:
            written = conn.execute(
                self._open_article(claim, index).values(
                    state=SUCCEEDED if ok else FAILED,
                    response=response,
                    status=status,
                    finished_at=now,
                )
            ).rowcount
            if written:
                counter = jobs.c.succeeded_count if ok else jobs.c.failed_count
                conn.execute(
                    update(jobs)
                    .where(jobs.c.id == claim.job_id)
                    .values({counter.name: counter + 1, "updated_at": now})
                )
        return bool(written)

    def finish_job(self, claim: Claim, *, now: float, retention_s: float) -> str | None:
        """When every article has its outcome: the job's final state (succeeded when at least
        one article was briefed, else failed), written once, with its webhook delivery queued in
        the same transaction. None when articles are still open or the job is not held."""
        with self.engine.begin() as conn:
            open_count = conn.execute(
                select(func.count())
                .select_from(articles)
                .where(articles.c.job_id == claim.job_id, articles.c.state.in_(OPEN_STATES))
            ).scalar_one()
            if open_count:
                return None
            row = conn.execute(select(jobs.c.succeeded_count).where(self._held(claim))).first()
            if row is None:
                return None
            state = SUCCEEDED if row.succeeded_count else FAILED
            done = conn.execute(
                update(jobs).where(self._held(claim)).values(**_finished(state, now, retention_s))
            ).rowcount
            if not done:
                return None
            _add_delivery(conn, claim.job_id, now)
        return state

    # --- webhooks -----------------------------------------------------------------------------

    def claim_delivery(self, owner: str, *, now: float, lease_s: float) -> DeliveryWork | None:
        """Take the oldest due delivery, or None."""
        with self.engine.begin() as conn:
            row = _take_first(
                conn,
                select(deliveries)
                .where(
                    deliveries.c.state == PENDING,
                    deliveries.c.next_attempt_at <= now,
                    deliveries.c.lease_until < now,
                )
                .order_by(deliveries.c.next_attempt_at),
            )
            if row is None:
                return None
            taken = conn.execute(
                update(deliveries)
                .where(deliveries.c.id == row.id, deliveries.c.lease_until < now)
                .values(lease_owner=owner, lease_until=now + lease_s)
            ).rowcount
            if not taken:
                return None
        return DeliveryWork(row.id, row.job_id, row.url, row.attempt_count, row.first_attempt_at)

    def record_attempt(
        self,
        work: DeliveryWork,
        owner: str,
        *,
        at: float,
        http_status: int,
        error: str,
        duration_ms: float,
        state: str,
        next_attempt_at: float,
    ) -> None:
        """Record one attempt and what follows: delivered, failed, or the next attempt's time."""
        n = work.attempt_count + 1
        with self.engine.begin() as conn:
            conn.execute(
                insert(attempts).values(
                    delivery_id=work.id,
                    n=n,
                    at=at,
                    http_status=http_status,
                    error=error[:1000],
                    duration_ms=duration_ms,
                )
            )
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == work.id, deliveries.c.lease_owner == owner)
                .values(
                    state=state,
                    attempt_count=n,
                    first_attempt_at=work.first_attempt_at or at,
                    delivered_at=at if state == DELIVERED else None,
                    next_attempt_at=next_attempt_at,
                    lease_owner=None,
                    lease_until=0.0,
                )
            )

    # --- retention ----------------------------------------------------------------------------

    def expire(self, *, now: float, batch: int = 500) -> int:
        """Delete finished jobs past their expiry time whose webhook is no longer pending (their
        articles, delivery and attempts with them); the number of jobs deleted."""
        with self.engine.begin() as conn:
            ids = [
                r.id
                for r in conn.execute(
                    select(jobs.c.id)
                    .where(
                        jobs.c.expires_at.is_not(None),
                        jobs.c.expires_at < now,
                        ~exists().where(
                            deliveries.c.job_id == jobs.c.id, deliveries.c.state == PENDING
                        ),
                    )
                    .limit(batch)
                )
            ]
            if not ids:
                return 0
            delivery_ids = select(deliveries.c.id).where(deliveries.c.job_id.in_(ids))
            conn.execute(delete(attempts).where(attempts.c.delivery_id.in_(delivery_ids)))
            conn.execute(delete(deliveries).where(deliveries.c.job_id.in_(ids)))
            conn.execute(delete(articles).where(articles.c.job_id.in_(ids)))
            conn.execute(delete(jobs).where(jobs.c.id.in_(ids)))
        return len(ids)


def _take_first(conn: Connection, query: Select[Any]) -> Any:
    """The first row of ``query``, locked until the transaction ends (rows that another
    replica's transaction holds are skipped: two replicas never take the same one), or None."""
    return conn.execute(query.limit(1).with_for_update(skip_locked=True)).first()


def _finished(state: str, now: float, retention_s: float) -> dict[str, Any]:
    """The values of a job that ends now in ``state``: kept ``retention_s``, no longer held."""
    return {
        "state": state,
        "updated_at": now,
        "finished_at": now,
        "expires_at": now + retention_s,
        "lease_owner": None,
        "lease_until": 0.0,
    }


def _add_delivery(conn: Connection, job_id: str, now: float) -> None:
    """Queue the webhook of a job that just finished, when it has a callback URL."""
    url = conn.execute(select(jobs.c.callback_url).where(jobs.c.id == job_id)).scalar()
    if not url:
        return
    conn.execute(
        insert(deliveries).values(
            id=f"dlv_{uuid.uuid4().hex}",
            job_id=job_id,
            state=PENDING,
            url=url,
            created_at=now,
            next_attempt_at=now,
            attempt_count=0,
            lease_until=0.0,
        )
    )


def _delivery(conn: Connection, job_id: str) -> DeliveryRow | None:
    row = conn.execute(select(deliveries).where(deliveries.c.job_id == job_id)).first()
    if row is None:
        return None
    tries = tuple(
        AttemptRow(a.at, a.http_status, a.error, a.duration_ms)
        for a in conn.execute(
            select(attempts).where(attempts.c.delivery_id == row.id).order_by(attempts.c.n)
        )
    )
    return DeliveryRow(row.id, row.state, row.delivered_at, tries)


def _job_row(row: Any, items: Iterable[ArticleRow], delivery: DeliveryRow | None) -> JobRow:
    return JobRow(
        id=row.id,
        tenant=row.tenant,
        state=row.state,
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
        expires_at=row.expires_at,
        idempotency_key=row.idempotency_key or "",
        callback_url=row.callback_url or "",
        article_count=row.article_count,
        succeeded_count=row.succeeded_count,
        failed_count=row.failed_count,
        articles=tuple(items),
        delivery=delivery,
    )


def _encode_token(created_at: float, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at!r}|{job_id}".encode()).decode()


def _decode_token(token: str) -> tuple[float, str]:
    try:
        at, _, job_id = base64.urlsafe_b64decode(token.encode()).decode().partition("|")
        return float(at), job_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument(
            FieldViolation("page_token", "is not a token this server gave")
        ) from None


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30.0, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun below, not by pysqlite
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # one writer at a time: claims are atomic

    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision, one replica at a time. A database migrated by a
    newer server (a revision this one does not know) is refused.

    Alembic is never imported by the server process (about 14 MiB it would hold for good,
    Python never freeing a module): a database at :data:`HEAD_REVISION` needs nothing; a new one
    (none of the store's tables, no revision) gets the tables of :mod:`.schema` (the head
    revision's, a test holds them to what the migrations make) stamped with the head revision,
    as Alembic's own recipe for a database built from scratch (an in-memory SQLite database,
    which no other process could see, is always one); any other is migrated by Alembic in a
    child process (:func:`_migrate_in_child`)."""
    with engine.begin() as conn:
        _lock_migrations(conn)  # the next replica waits, then finds it done
        found = _revisions(conn)
        if found == {HEAD_REVISION}:
            return
        if not found and not any(inspect(conn).has_table(t.name) for t in metadata.sorted_tables):
            metadata.create_all(conn)
            _ALEMBIC_VERSION.create(conn)
            conn.execute(_ALEMBIC_VERSION.insert().values(version_num=HEAD_REVISION))
            return
    _migrate_in_child(engine.url.render_as_string(hide_password=False))


#: Alembic's table of the database's revision, as Alembic makes it
_ALEMBIC_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def _lock_migrations(conn: Connection) -> None:
    """On PostgreSQL, hold the migration lock until this transaction ends (replicas starting
    together migrate one at a time); SQLite's writer lock already does."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def _revisions(conn: Connection) -> set[str]:
    """The revisions Alembic has recorded in the database (none in a new one)."""
    if not inspect(conn).has_table("alembic_version"):
        return set()
    return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _upgrade(engine: Engine) -> None:
    """Alembic's upgrade to head, in one transaction under the migration lock."""
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        _lock_migrations(conn)
        config.attributes["connection"] = conn
        try:
            command.upgrade(config, "head")
        except CommandError as exc:
            raise StoreUnavailable(
                f"the jobs database's schema is not one this server knows ({exc}); "
                "a newer server may have migrated it"
            ) from exc


class MigrationFailed(Exception):
    """The migration in the child process failed with an exception other than
    :class:`StoreUnavailable`: its type's name and its first line."""

    def __init__(self, kind: str, line: str) -> None:
        super().__init__(f"{kind}: {line}")
        self.kind = kind
        self.line = line


# the child's command line: its input names the server's import path, then the migration runs
_CHILD = (
    "import json, sys; args = json.loads(sys.stdin.readline()); sys.path[:0] = args['path']; "
    "from newsbrief.service.jobs.store import migrate_here; migrate_here(args['url'])"
)


def _migrate_in_child(url: str) -> None:
    """:func:`_upgrade` in a child process (:func:`migrate_here`), its log records logged again
    here and its failure raised here; the URL goes through its input (it may hold a password)."""
    child = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=json.dumps({"path": sys.path, "url": url}) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    outcome: dict[str, Any] = {}
    for line in child.stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:  # printed by something else than migrate_here
            continue
        if not isinstance(message, dict):
            continue
        if "log" in message:
            name, level, text_ = message["log"]
            logging.getLogger(name).log(level, "%s", text_)
        else:
            outcome = message
    if "unavailable" in outcome:
        raise StoreUnavailable(outcome["unavailable"])
    if "failed" in outcome:
        raise MigrationFailed(*outcome["failed"])
    if child.returncode != 0 or outcome != {"done": True}:
        raise MigrationFailed(
            "MigrationFailed",
            f"the migration's process ended with status {child.returncode}: "
            + (child.stderr.strip().splitlines() or [""])[-1],
        )


class _Forward(logging.Handler):
    """In the migration's child process: each log record to the parent (:func:`migrate_here`)."""

    def emit(self, record: logging.LogRecord) -> None:
        _tell({"log": [record.name, record.levelno, record.getMessage()]})


def _tell(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def migrate_here(url: str) -> None:
    """The migration's child process (:func:`_migrate_in_child`): every log record goes to the
    parent, which logs it under its own settings, and so does the outcome."""
    logging.root.addHandler(_Forward())
    logging.root.setLevel(logging.DEBUG)
    engine = _engine(url)
    try:
        _upgrade(engine)
    except StoreUnavailable as exc:
        _tell({"unavailable": str(exc)})
    except Exception as exc:
        _tell({"failed": [type(exc).__name__, str(exc).splitlines()[0] if str(exc) else ""]})
    else:
        _tell({"done": True})
    finally:
        engine.dispose()
