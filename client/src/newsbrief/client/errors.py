"""Errors raised by the newsbrief client: one class per gRPC status family.

Every ``grpc.RpcError`` the client meets becomes a :class:`NewsbriefError` subclass (raised
``from`` the original), with the rich details the server sent in ``grpc-status-details-bin``
(``google.rpc.BadRequest``, ``RetryInfo``, ``QuotaFailure``, ``PreconditionFailure``) decoded
without googleapis-common-protos.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypedDict, Unpack

import grpc

from newsbrief.client import _wire

STATUS_DETAILS_KEY = "grpc-status-details-bin"
REQUEST_ID_KEY = "x-request-id"

_CLASS_BY_CODE: dict[grpc.StatusCode, type[NewsbriefError]] = {}
"""Status code -> NewsbriefError subclass, filled in as the subclasses below are defined."""


class NewsbriefError(Exception):
    """A failed newsbrief call.

    Attributes:
        code: the ``grpc.StatusCode``.
        message: the status message.
        field_violations: ``(field, description)`` per bad request field (``BadRequest``).
        retry_delay: seconds the server asks to wait before retrying (``RetryInfo``), or None.
        quota_violations: ``(subject, description)`` per exceeded quota (``QuotaFailure``).
        precondition_violations: ``(type, subject, description)`` (``PreconditionFailure``).
        request_id: the server's ``x-request-id`` for this call, or None.
    """

    default_code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init_subclass__(
        cls,
        *,
        code: grpc.StatusCode | None = None,
        also: Sequence[grpc.StatusCode] = (),
        **kwargs: Any,
    ) -> None:
        """``code``: the subclass's ``default_code``, and the class :func:`error_class` gives
        for it and for the codes in ``also`` (a subclass without ``code`` maps nothing)."""
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.default_code = code
            for each in (code, *also):
                _CLASS_BY_CODE[each] = cls

    def __init__(
        self,
        message: str = "",
        *,
        code: grpc.StatusCode | None = None,
        field_violations: Sequence[tuple[str, str]] = (),
        retry_delay: float | None = None,
        quota_violations: Sequence[tuple[str, str]] = (),
        precondition_violations: Sequence[tuple[str, str, str]] = (),
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code: grpc.StatusCode = code if code is not None else self.default_code
        self.message = message
        self.field_violations: list[tuple[str, str]] = list(field_violations)
        self.retry_delay = retry_delay
        self.quota_violations: list[tuple[str, str]] = list(quota_violations)
        self.precondition_violations: list[tuple[str, str, str]] = list(precondition_violations)
        self.request_id = request_id

    @property
    def status_name(self) -> str:
        """The status code's name, e.g. ``"INVALID_ARGUMENT"``."""
        return str(self.code.name)

    def __str__(self) -> str:
        text = f"{self.status_name}: {self.message}"
        for field, description in self.field_violations:
            text += f"\n  {field}: {description}"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.status_name}, message={self.message!r})"


class InvalidArgumentError(
    NewsbriefError, code=grpc.StatusCode.INVALID_ARGUMENT, also=(grpc.StatusCode.OUT_OF_RANGE,)
):
    """INVALID_ARGUMENT (and OUT_OF_RANGE): the request is wrong; see ``field_violations``."""


class FailedPreconditionError(NewsbriefError, code=grpc.StatusCode.FAILED_PRECONDITION):
    """FAILED_PRECONDITION: a capability (e.g. a model) is not installed on the server."""


class UnavailableError(NewsbriefError, code=grpc.StatusCode.UNAVAILABLE):
    """UNAVAILABLE: the server is unreachable, not ready, overloaded or draining; retry later."""


class ResourceExhaustedError(NewsbriefError, code=grpc.StatusCode.RESOURCE_EXHAUSTED):
    """RESOURCE_EXHAUSTED: a quota or queue is full; see ``retry_delay``, ``quota_violations``."""


class AuthenticationError(NewsbriefError, code=grpc.StatusCode.UNAUTHENTICATED):
    """UNAUTHENTICATED: the API key is missing or wrong."""


class PermissionDeniedError(NewsbriefError, code=grpc.StatusCode.PERMISSION_DENIED):
    """PERMISSION_DENIED: the API key may not do this."""


class DeadlineExceededError(NewsbriefError, code=grpc.StatusCode.DEADLINE_EXCEEDED):
    """DEADLINE_EXCEEDED: the call's deadline passed."""


class NotFoundError(NewsbriefError, code=grpc.StatusCode.NOT_FOUND):
    """NOT_FOUND (e.g. an unknown service name in a health check)."""


class AlreadyExistsError(NewsbriefError, code=grpc.StatusCode.ALREADY_EXISTS):
    """ALREADY_EXISTS: e.g. a job's idempotency key reused for other articles."""


class InternalError(NewsbriefError, code=grpc.StatusCode.INTERNAL):
    """INTERNAL, UNKNOWN and every other status."""


_CODE_BY_NUMBER: dict[int, grpc.StatusCode] = {int(c.value[0]): c for c in grpc.StatusCode}


def error_class(code: grpc.StatusCode) -> type[NewsbriefError]:
    """The NewsbriefError subclass for a status code."""
    return _CLASS_BY_CODE.get(code, InternalError)


def status_code_from_number(number: int) -> grpc.StatusCode:
    """``google.rpc.Code`` number -> ``grpc.StatusCode`` (UNKNOWN for numbers out of range)."""
    return _CODE_BY_NUMBER.get(number, grpc.StatusCode.UNKNOWN)


class ErrorDetails(TypedDict, total=False):
    """The keyword arguments of :func:`make_error`: what a :class:`NewsbriefError` carries
    besides its code and message (see its attributes)."""

    field_violations: Sequence[tuple[str, str]]
    retry_delay: float | None
    quota_violations: Sequence[tuple[str, str]]
    precondition_violations: Sequence[tuple[str, str, str]]
    request_id: str | None


def make_error(
    code: grpc.StatusCode, message: str, **details: Unpack[ErrorDetails]
) -> NewsbriefError:
    """Build the matching subclass for ``code``."""
    return error_class(code)(message, code=code, **details)


def status_details(raw: bytes) -> _wire.StatusDetails:
    """The details of a serialized ``google.rpc.Status`` (none when it is malformed)."""
    try:
        return _wire.decode_status(raw)
    except _wire.WireError:
        return _wire.StatusDetails()


def error_from_details(
    code: grpc.StatusCode,
    message: str,
    details: _wire.StatusDetails,
    request_id: str | None = None,
) -> NewsbriefError:
    """The matching subclass for ``code`` with the rich details of a ``google.rpc.Status``."""
    return make_error(
        code,
        message,
        field_violations=details.field_violations,
        retry_delay=details.retry_delay,
        quota_violations=details.quota_violations,
        precondition_violations=details.precondition_violations,
        request_id=request_id,
    )


def _metadata_pairs(metadata: Any) -> list[tuple[str, Any]]:
    if not metadata:
        return []
    pairs: list[tuple[str, Any]] = []
    for item in metadata:
        try:
            key, value = item[0], item[1]
        except (TypeError, IndexError, KeyError):
            continue
        pairs.append((str(key).lower(), value))
    return pairs


def _first(pairs: Iterable[tuple[str, Any]], key: str) -> Any:
    for k, v in pairs:
        if k == key:
            return v
    return None


def _call(method: Any) -> Any:
    try:
        return method() if callable(method) else None
    except Exception:  # a half-initialised error object: treat as absent
        return None


def from_rpc_error(error: grpc.RpcError) -> NewsbriefError:
    """Convert a ``grpc.RpcError`` (sync or ``grpc.aio``) into the matching NewsbriefError."""
    code = _call(getattr(error, "code", None))
    if not isinstance(code, grpc.StatusCode):
        code = grpc.StatusCode.UNKNOWN
    message = _call(getattr(error, "details", None)) or ""
    trailing = _metadata_pairs(_call(getattr(error, "trailing_metadata", None)))
    initial = _metadata_pairs(_call(getattr(error, "initial_metadata", None)))
    request_id = _first(trailing, REQUEST_ID_KEY) or _first(initial, REQUEST_ID_KEY)
    if isinstance(request_id, bytes):
        request_id = request_id.decode("utf-8", errors="replace")
    if code == grpc.StatusCode.CANCELLED and request_id is None and message == "CANCELLED":
        # Cancelled by the server's grpc before any handler ran (a newsbrief handler always
        # sends a request id first): the server was closing as the call arrived. Nothing was
        # done, so it is UNAVAILABLE: retry (another replica will answer).
        code = grpc.StatusCode.UNAVAILABLE
        message = "the server was closing as the call arrived (not handled): retry"
    details = _wire.StatusDetails()
    raw = _first(trailing, STATUS_DETAILS_KEY)
    if isinstance(raw, str):
        raw = raw.encode("latin-1", errors="replace")
    if isinstance(raw, bytes):
        details = status_details(raw)
        if not message and details.message:
            message = details.message
    return error_from_details(
        code, str(message), details, str(request_id) if request_id is not None else None
    )
