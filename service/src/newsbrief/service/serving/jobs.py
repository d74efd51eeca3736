"""JobService, transport-free: one method per RPC (protobuf request and the caller's tenant in,
protobuf response out), the brief that a job's article runs (the pipeline, after the key's
quota), and the status of an article that failed. The doors only convert and call these.

The tenant is the SHA-256 hex of the caller's API key ("" on a server without keys): a job is
seen, listed and cancelled only by the key that created it; another key's job is NOT_FOUND.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid

from newsbrief.service.errors import (
    CapabilityUnavailable,
    FieldViolation,
    InvalidArgument,
    NewsbriefError,
    NotReady,
)
from newsbrief.service.jobs import convert
from newsbrief.service.jobs.runner import BriefFn
from newsbrief.service.jobs.store import NewArticle, StoreUnavailable
from newsbrief.service.jobs.system import JobSystem
from newsbrief.service.jobs.webhooks import CallbackRefused
from newsbrief.service.observability.logs import request_id_var
from newsbrief.service.pipeline.core import JOBS_OFF, JOBS_ON_HELP, Pipeline
from newsbrief.service.pipeline.validate import validate_article
from newsbrief.service.serving import converters as conv
from newsbrief.service.serving.access import ApiKeys
from newsbrief.service.serving.status import to_status
from newsbrief.service.settings import Settings
from newsbrief.v1 import newsbrief_pb2 as pb

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 50


def tenant_of(api_key: str, keys_enabled: bool) -> str:
    """The tenant of a caller: its key's SHA-256 hex, or "" when the server needs no key."""
    if not keys_enabled or not api_key:
        return ""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def error_status(exc: BaseException) -> pb.ItemStatus:
    """An article's error as its status (the one error table, as SummarizeStream items)."""
    if not isinstance(exc, NewsbriefError):
        log.error("job article failed", exc_info=exc)
    status = to_status(exc, request_id_var.get())
    violations = [
        pb.FieldViolation(field=v.field, description=v.description)
        for v in (exc.violations if isinstance(exc, InvalidArgument) else ())
    ]
    return pb.ItemStatus(
        code=status.code,
        message=status.message,
        field_violations=violations,
        details=list(status.details),
    )


def pipeline_brief(pipeline: Pipeline, keys: ApiKeys | None, timeout_s: float) -> BriefFn:
    """What a job's article runs: one unit of its key's quota (QuotaExceeded, with the delay,
    when spent), then the pipeline with the article's deadline."""

    async def brief(request: pb.SummarizeRequest, tenant: str) -> pb.SummarizeResponse:
        if keys is not None and keys.enabled and tenant:
            keys.take(tenant)
        article, options = conv.article_from_pb(request)
        result = await pipeline.brief(
            article, options, deadline=time.monotonic() + timeout_s, tenant=tenant
        )
        return conv.result_to_pb(result)

    return brief


def request_hash(request: pb.CreateJobRequest) -> str:
    """What makes two CreateJob calls "the same request": every field but the key."""
    body = pb.CreateJobRequest()
    body.CopyFrom(request)
    body.idempotency_key = ""
    return hashlib.sha256(body.SerializeToString(deterministic=True)).hexdigest()


class JobsService:
    """The calls of JobService. ``system`` None: jobs are off (FAILED_PRECONDITION)."""

    def __init__(self, system: JobSystem | None, settings: Settings) -> None:
        self._system = system
        self._settings = settings

    def _jobs(self) -> JobSystem:
        if self._system is None:
            raise CapabilityUnavailable("jobs", JOBS_OFF, JOBS_ON_HELP)
        return self._system

    async def create_job(self, request: pb.CreateJobRequest, tenant: str) -> pb.CreateJobResponse:
        system = self._jobs()
        s = self._settings.jobs
        violations: list[FieldViolation] = []
        if not request.articles:
            violations.append(FieldViolation("articles", "must hold at least one article"))
        elif len(request.articles) > s.max_articles:
            violations.append(
                FieldViolation(
                    "articles",
                    f"holds {len(request.articles)} articles; the limit is {s.max_articles} "
                    "(jobs.max_articles)",
                )
            )
        if len(request.idempotency_key) > s.max_idempotency_key_chars:
            violations.append(
                FieldViolation(
                    "idempotency_key",
                    f"is longer than {s.max_idempotency_key_chars} characters",
                )
            )
        for i, article in enumerate(request.articles[: s.max_articles]):
            try:
                validate_article(*conv.article_from_pb(article), self._settings)
            except InvalidArgument as exc:
                violations += [
                    FieldViolation(f"articles[{i}].{v.field}", v.description)
                    for v in exc.violations
                ]
            if len(violations) > 16:
                break
        if request.callback_url:
            if not s.webhook.secret.get_secret_value():
                raise CapabilityUnavailable(
                    "jobs.webhooks",
                    "this server sends no webhooks: it has no signing secret",
                    "set jobs.webhook.secret (NEWSBRIEF_JOBS__WEBHOOK__SECRET)",
                )
            try:
                await system.policy.resolve(request.callback_url)
            except CallbackRefused as exc:
                violations.append(FieldViolation("callback_url", str(exc)))
        if violations:
            raise InvalidArgument(violations)
        items = [
            NewArticle(a.client_reference, a.SerializeToString(deterministic=True))
            for a in request.articles
        ]
        try:
            job, created = await system.store.call(
                system.store.create,
                job_id=f"job_{uuid.uuid4().hex}",
                tenant=tenant,
                idempotency_key=request.idempotency_key,
                request_hash=request_hash(request),
                callback_url=request.callback_url,
                items=items,
                now=time.time(),
            )
        except StoreUnavailable as exc:
            raise NotReady(str(exc)) from exc
        if created:
            log.info("job %s: queued (%d articles)", job.id, job.article_count)
            system.runner.wake()
        return pb.CreateJobResponse(job=convert.job_to_pb(job), created=created)

    async def get_job(self, request: pb.GetJobRequest, tenant: str) -> pb.GetJobResponse:
        system = self._jobs()
        job = await system.store.call(system.store.get, tenant, request.job_id)
        return pb.GetJobResponse(job=convert.job_to_pb(job))

    async def list_jobs(self, request: pb.ListJobsRequest, tenant: str) -> pb.ListJobsResponse:
        system = self._jobs()
        if request.state and request.state not in convert.STATE_NAMES:
            raise InvalidArgument(FieldViolation("state", f"unknown value {request.state}"))
        size = request.page_size or DEFAULT_PAGE_SIZE
        size = min(size, self._settings.jobs.max_page_size)
        after = (
            request.created_after.ToNanoseconds() / 1e9
            if request.HasField("created_after")
            else None
        )
        before = (
            request.created_before.ToNanoseconds() / 1e9
            if request.HasField("created_before")
            else None
        )
        jobs, token = await system.store.call(
            system.store.page,
            tenant,
            state=convert.STATE_NAMES.get(request.state, ""),
            created_after=after,
            created_before=before,
            limit=size,
            page_token=request.page_token,
        )
        return pb.ListJobsResponse(jobs=[convert.job_to_pb(j) for j in jobs], next_page_token=token)

    async def cancel_job(self, request: pb.CancelJobRequest, tenant: str) -> pb.CancelJobResponse:
        system = self._jobs()
        job = await system.store.call(
            system.store.cancel,
            tenant,
            request.job_id,
            now=time.time(),
            retention_s=self._settings.jobs.retention_s,
        )
        if job.state == "cancelled":
            log.info("job %s: cancelled", job.id)
            system.deliverer.wake()
        return pb.CancelJobResponse(job=convert.job_to_pb(job))
