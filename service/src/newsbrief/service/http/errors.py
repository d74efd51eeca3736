"""Errors of the HTTP door in the Connect protocol: the one error table (``serving/status.py``)
as Connect codes, HTTP statuses and JSON bodies with google.rpc details."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from connectrpc.code import Code as ConnectCode
from connectrpc.errors import ConnectError, ErrorDetail
from google.protobuf import any_pb2, json_format
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2
from protobuf.wkt import Any as WireAny

from newsbrief.service.serving.status import Code, code_for, to_status

# Connect error codes by status code (the Connect protocol spells CANCELLED with one L), and
# the HTTP status of each (as the Connect protocol maps them).
CONNECT_CODE = {c: c.name.lower() for c in Code} | {Code.CANCELLED: "canceled"}
HTTP_STATUS = {
    Code.CANCELLED: 499,
    Code.UNKNOWN: 500,
    Code.INVALID_ARGUMENT: 400,
    Code.DEADLINE_EXCEEDED: 504,
    Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409,
    Code.PERMISSION_DENIED: 403,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.FAILED_PRECONDITION: 400,
    Code.ABORTED: 409,
    Code.OUT_OF_RANGE: 400,
    Code.UNIMPLEMENTED: 501,
    Code.INTERNAL: 500,
    Code.UNAVAILABLE: 503,
    Code.DATA_LOSS: 500,
    Code.UNAUTHENTICATED: 401,
}
_CONNECT_CODE = {code.name: code for code in ConnectCode} | {"CANCELLED": ConnectCode.CANCELED}


def wire_details(details: Any) -> list[dict[str, str]]:
    """google.protobuf Any details as Connect JSON (type name, unpadded base64 value)."""
    out = []
    for detail in details:
        assert isinstance(detail, any_pb2.Any)
        out.append(
            {
                "type": detail.type_url.rsplit("/", 1)[-1],
                "value": base64.b64encode(detail.value).decode().rstrip("="),
            }
        )
    return out


def connect_error(exc: BaseException, request_id: str) -> ConnectError:
    """A domain error (or any other) as a Connect error through the one error table."""
    status = to_status(exc, request_id)
    details = [ErrorDetail(WireAny(type_url=d.type_url, value=d.value)) for d in status.details]
    return ConnectError(_CONNECT_CODE[code_for(exc).name], status.message, details=details)


def with_debug_details(body: bytes) -> bytes:
    """A Connect JSON error with each google.rpc detail also spelt out as JSON (``debug``:
    ``fieldViolations``, ``retryDelay``...), as the Connect protocol allows. connectrpc only does
    this for messages of its own protobuf runtime; the error details here are google.protobuf's.
    """
    try:
        error = json.loads(body)
    except ValueError:
        return body
    if not isinstance(error, dict) or not isinstance(error.get("details"), list):
        return body
    for detail in error["details"]:
        cls = _DETAIL_TYPES.get(detail.get("type", "")) if isinstance(detail, dict) else None
        if cls is None or "debug" in detail:
            continue
        try:
            raw = base64.b64decode(detail["value"] + "=" * (-len(detail["value"]) % 4))
            detail["debug"] = json_format.MessageToDict(cls.FromString(raw))
        except (KeyError, TypeError, ValueError, DecodeError):
            continue
    return json.dumps(error, ensure_ascii=False).encode("utf-8")


_DETAIL_TYPES: dict[str, Any] = {
    cls.DESCRIPTOR.full_name: cls
    for cls in (
        error_details_pb2.BadRequest,
        error_details_pb2.RetryInfo,
        error_details_pb2.QuotaFailure,
        error_details_pb2.PreconditionFailure,
    )
}


def error_body(exc: BaseException, request_id: str) -> tuple[Code, bytes]:
    """A Connect JSON error for ``exc`` through the one error table (details spelt out)."""
    status = to_status(exc, request_id)
    code = code_for(exc)
    body: dict[str, Any] = {"code": CONNECT_CODE[code], "message": status.message}
    if status.details:
        body["details"] = wire_details(status.details)
    return code, with_debug_details(json.dumps(body, ensure_ascii=False).encode("utf-8"))


def retry_after(exc: BaseException) -> str | None:
    """The ``Retry-After`` header value (whole seconds, at least 1) of an error that carries a
    retry delay; None for one that does not."""
    retry = getattr(exc, "retry_after_s", None)
    return str(max(1, math.ceil(retry))) if isinstance(retry, int | float) else None
