"""Jobs store rows as JobService messages (the webhook body and the API's answers)."""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from newsbrief.service.jobs.store import ArticleRow, DeliveryRow, JobRow
from newsbrief.v1 import newsbrief_pb2 as pb

JOB_STATES = {
    "queued": pb.JOB_STATE_QUEUED,
    "running": pb.JOB_STATE_RUNNING,
    "succeeded": pb.JOB_STATE_SUCCEEDED,
    "failed": pb.JOB_STATE_FAILED,
    "cancelled": pb.JOB_STATE_CANCELLED,
}
STATE_NAMES = {number: name for name, number in JOB_STATES.items()}
ARTICLE_STATES = {
    "queued": pb.ARTICLE_STATE_QUEUED,
    "running": pb.ARTICLE_STATE_RUNNING,
    "succeeded": pb.ARTICLE_STATE_SUCCEEDED,
    "failed": pb.ARTICLE_STATE_FAILED,
    "cancelled": pb.ARTICLE_STATE_CANCELLED,
}
WEBHOOK_STATES = {
    "pending": pb.WEBHOOK_STATE_PENDING,
    "delivered": pb.WEBHOOK_STATE_DELIVERED,
    "failed": pb.WEBHOOK_STATE_FAILED,
}


def timestamp(seconds: float | None) -> timestamp_pb2.Timestamp | None:
    if seconds is None:
        return None
    out = timestamp_pb2.Timestamp()
    out.FromNanoseconds(int(seconds * 1e9))
    return out


def article_to_pb(row: ArticleRow) -> pb.JobArticle:
    out = pb.JobArticle(
        index=row.index,
        client_reference=row.client_reference,
        state=ARTICLE_STATES.get(row.state, pb.ARTICLE_STATE_UNSPECIFIED),
        attempts=row.attempts,
    )
    if row.status:
        out.status.ParseFromString(row.status)
    if row.response:
        out.response.ParseFromString(row.response)
    return out


def delivery_to_pb(row: DeliveryRow) -> pb.WebhookDelivery:
    out = pb.WebhookDelivery(
        delivery_id=row.id,
        state=WEBHOOK_STATES.get(row.state, pb.WEBHOOK_STATE_UNSPECIFIED),
        attempts=[
            pb.WebhookAttempt(
                time=timestamp(a.at),
                http_status=a.http_status,
                error=a.error,
                duration_ms=a.duration_ms,
            )
            for a in row.attempts
        ],
    )
    delivered = timestamp(row.delivered_at)
    if delivered is not None:
        out.delivered_time.CopyFrom(delivered)
    return out


def job_to_pb(row: JobRow, *, with_webhook: bool = True) -> pb.Job:
    out = pb.Job(
        id=row.id,
        state=JOB_STATES.get(row.state, pb.JOB_STATE_UNSPECIFIED),
        article_count=row.article_count,
        succeeded_count=row.succeeded_count,
        failed_count=row.failed_count,
        idempotency_key=row.idempotency_key,
        callback_url=row.callback_url,
        articles=[article_to_pb(a) for a in row.articles],
    )
    for field, seconds in (
        ("create_time", row.created_at),
        ("update_time", row.updated_at),
        ("finish_time", row.finished_at),
        ("expire_time", row.expires_at),
    ):
        value = timestamp(seconds)
        if value is not None:
            getattr(out, field).CopyFrom(value)
    if with_webhook and row.delivery is not None:
        out.webhook.CopyFrom(delivery_to_pb(row.delivery))
    return out
