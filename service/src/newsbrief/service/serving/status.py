"""One table from domain errors to status codes and rich details (google.rpc), for both doors.

No transport import: the codes are google.rpc.Code's numbers (the same as gRPC's and Connect's);
the gRPC adapter turns a :class:`Code` into ``grpc.StatusCode`` by name, the HTTP adapter into a
Connect code."""

from __future__ import annotations

import enum
import logging

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


class Code(enum.IntEnum):
    """The status codes (google.rpc.Code numbering, the names gRPC uses)."""

    OK = code_pb2.OK
    CANCELLED = code_pb2.CANCELLED
    UNKNOWN = code_pb2.UNKNOWN
    INVALID_ARGUMENT = code_pb2.INVALID_ARGUMENT
    DEADLINE_EXCEEDED = code_pb2.DEADLINE_EXCEEDED
    NOT_FOUND = code_pb2.NOT_FOUND
    ALREADY_EXISTS = code_pb2.ALREADY_EXISTS
    PERMISSION_DENIED = code_pb2.PERMISSION_DENIED
    RESOURCE_EXHAUSTED = code_pb2.RESOURCE_EXHAUSTED
    FAILED_PRECONDITION = code_pb2.FAILED_PRECONDITION
    ABORTED = code_pb2.ABORTED
    OUT_OF_RANGE = code_pb2.OUT_OF_RANGE
    UNIMPLEMENTED = code_pb2.UNIMPLEMENTED
    INTERNAL = code_pb2.INTERNAL
    UNAVAILABLE = code_pb2.UNAVAILABLE
    DATA_LOSS = code_pb2.DATA_LOSS
    UNAUTHENTICATED = code_pb2.UNAUTHENTICATED


# Domain error class -> status code. The first match in order wins (subclasses first).
STATUS_TABLE: tuple[tuple[type[e.NewsbriefError], Code], ...] = (
    (e.InvalidArgument, Code.INVALID_ARGUMENT),
    (e.CapabilityUnavailable, Code.FAILED_PRECONDITION),
    (e.NotReady, Code.UNAVAILABLE),
    (e.Overloaded, Code.RESOURCE_EXHAUSTED),
    (e.QuotaExceeded, Code.RESOURCE_EXHAUSTED),
    (e.MessageTooLarge, Code.RESOURCE_EXHAUSTED),
    (e.Unauthenticated, Code.UNAUTHENTICATED),
    (e.PermissionDenied, Code.PERMISSION_DENIED),
    (e.DeadlineExceeded, Code.DEADLINE_EXCEEDED),
    (e.NotFound, Code.NOT_FOUND),
    (e.AlreadyExists, Code.ALREADY_EXISTS),
)


def code_for(exc: BaseException) -> Code:
    for cls, code in STATUS_TABLE:
        if isinstance(exc, cls):
            return code
    return Code.INTERNAL


def _retry_info(seconds: float) -> error_details_pb2.RetryInfo:
    whole = int(seconds)
    return error_details_pb2.RetryInfo(
        retry_delay=duration_pb2.Duration(seconds=whole, nanos=int((seconds - whole) * 1e9))
    )


def to_status(exc: BaseException, request_id: str = "") -> status_pb2.Status:
    """The google.rpc.Status for an error. Unknown errors get a fixed text; their detail is only
    logged (by the caller) with the request id."""
    code = code_for(exc)
    status = status_pb2.Status(code=int(code))
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
