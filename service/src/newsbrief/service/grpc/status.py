"""One table from domain errors to gRPC status codes and rich details (google.rpc)."""

from __future__ import annotations

import logging

import grpc
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from newsbrief.service import errors as e

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "internal error; the server log has the details under this request's id"

# Error details travel in the trailers, which the client caps (8 KiB by default; past the hard
# limit it sees RESOURCE_EXHAUSTED "metadata size exceeds hard limit" instead of the error).
# Values a request echoes into an error are therefore cut to these lengths.
MAX_MESSAGE_CHARS = 1024
MAX_DESCRIPTION_CHARS = 256
MAX_VIOLATIONS = 16


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with how much was cut."""
    if len(text) <= limit:
        return text
    marker = f"... [{len(text) - limit} more chars]"
    return text[: max(0, limit - len(marker))] + marker


# Domain error class -> status code. The first match in order wins (subclasses first).
STATUS_TABLE: tuple[tuple[type[e.NewsbriefError], grpc.StatusCode], ...] = (
    (e.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (e.CapabilityUnavailable, grpc.StatusCode.FAILED_PRECONDITION),
    (e.NotReady, grpc.StatusCode.UNAVAILABLE),
    (e.Overloaded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (e.QuotaExceeded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (e.MessageTooLarge, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (e.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (e.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (e.DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
)


def code_for(exc: BaseException) -> grpc.StatusCode:
    for cls, code in STATUS_TABLE:
        if isinstance(exc, cls):
            return code
    return grpc.StatusCode.INTERNAL


def _retry_info(seconds: float) -> error_details_pb2.RetryInfo:
    whole = int(seconds)
    return error_details_pb2.RetryInfo(
        retry_delay=duration_pb2.Duration(seconds=whole, nanos=int((seconds - whole) * 1e9))
    )


def to_status(exc: BaseException, request_id: str = "") -> status_pb2.Status:
    """The google.rpc.Status for an error. Unknown errors get a fixed text; their detail is only
    logged (by the caller) with the request id."""
    code = code_for(exc)
    status = status_pb2.Status(code=code.value[0])
    if not isinstance(exc, e.NewsbriefError):
        status.message = (
            f"{INTERNAL_MESSAGE} (request id {request_id})" if request_id else (INTERNAL_MESSAGE)
        )
        return status
    status.message = truncate(exc.message, MAX_MESSAGE_CHARS)
    detail: object | None = None
    if isinstance(exc, e.InvalidArgument):
        detail = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=truncate(v.field, MAX_DESCRIPTION_CHARS),
                    description=truncate(v.description, MAX_DESCRIPTION_CHARS),
                )
                for v in exc.violations[:MAX_VIOLATIONS]
            ]
        )
    elif isinstance(exc, e.CapabilityUnavailable):
        detail = error_details_pb2.PreconditionFailure(
            violations=[
                error_details_pb2.PreconditionFailure.Violation(
                    type="CAPABILITY",
                    subject=exc.capability,
                    description=exc.how_to_fix or exc.message,
                )
            ]
        )
    elif isinstance(exc, e.NotReady | e.Overloaded):
        detail = _retry_info(exc.retry_after_s)
    elif isinstance(exc, e.QuotaExceeded):
        status.details.add().Pack(_retry_info(exc.retry_after_s))
        detail = error_details_pb2.QuotaFailure(
            violations=[
                error_details_pb2.QuotaFailure.Violation(
                    subject=exc.subject, description=truncate(exc.message, MAX_DESCRIPTION_CHARS)
                )
            ]
        )
        status.details.add().Pack(_retry_info(exc.retry_after_s))
    if detail is not None:
        status.details.add().Pack(detail)
    return status


assert code_pb2.OK == 0  # google.rpc.Code numbering equals grpc.StatusCode numbering
