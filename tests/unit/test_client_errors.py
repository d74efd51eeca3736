"""grpc.RpcError -> NewsbriefError subclasses, with details from grpc-status-details-bin."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from newsbrief.client import errors


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str = "", trailing: Any = ()) -> None:
        self._code, self._details, self._trailing = code, details, trailing

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> Any:
        return self._trailing


#: each error class and the status codes the client raises it for
CODES_OF = {
    errors.InvalidArgumentError: ("INVALID_ARGUMENT", "OUT_OF_RANGE"),
    errors.FailedPreconditionError: ("FAILED_PRECONDITION",),
    errors.UnavailableError: ("UNAVAILABLE",),
    errors.ResourceExhaustedError: ("RESOURCE_EXHAUSTED",),
    errors.AuthenticationError: ("UNAUTHENTICATED",),
    errors.PermissionDeniedError: ("PERMISSION_DENIED",),
    errors.DeadlineExceededError: ("DEADLINE_EXCEEDED",),
    errors.NotFoundError: ("NOT_FOUND",),
    errors.InternalError: ("INTERNAL", "UNKNOWN", "CANCELLED", "DATA_LOSS"),
}


@pytest.mark.parametrize(
    ("code", "cls"),
    [(grpc.StatusCode[name], cls) for cls, names in CODES_OF.items() for name in names],
)
def test_status_code_maps_to_subclass(code: grpc.StatusCode, cls: type) -> None:
    error = errors.from_rpc_error(FakeRpcError(code, "msg"))
    assert type(error) is cls
    assert isinstance(error, errors.NewsbriefError)
    assert error.code is code
    assert error.message == "msg"
    assert error.field_violations == [] and error.retry_delay is None and error.request_id is None


def test_rich_details_and_request_id_are_decoded() -> None:
    status = status_pb2.Status(code=3, message="bad request")
    for detail in (
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field="text", description="empty")
            ]
        ),
        error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=3)),
    ):
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    trailing = (
        ("x-request-id", "abc-123"),
        ("grpc-status-details-bin", status.SerializeToString()),
    )
    error = errors.from_rpc_error(FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, "", trailing))
    assert isinstance(error, errors.InvalidArgumentError)
    assert error.message == "bad request"  # taken from the Status when the call has none
    assert error.field_violations == [("text", "empty")]
    assert error.retry_delay == 3.0
    assert error.request_id == "abc-123"
    assert str(error) == "INVALID_ARGUMENT: bad request\n  text: empty"


def test_malformed_details_do_not_break_conversion() -> None:
    trailing = (("grpc-status-details-bin", b"\x0a\xff"),)
    error = errors.from_rpc_error(FakeRpcError(grpc.StatusCode.UNAVAILABLE, "down", trailing))
    assert isinstance(error, errors.UnavailableError)
    assert error.message == "down" and error.field_violations == []


def test_error_without_code_method_is_internal_unknown() -> None:
    error = errors.from_rpc_error(grpc.RpcError())
    assert isinstance(error, errors.InternalError)
    assert error.code is grpc.StatusCode.UNKNOWN


def test_status_numbers_cover_google_rpc_codes() -> None:
    assert errors.status_code_from_number(0) is grpc.StatusCode.OK
    assert errors.status_code_from_number(3) is grpc.StatusCode.INVALID_ARGUMENT
    assert errors.status_code_from_number(14) is grpc.StatusCode.UNAVAILABLE
    assert errors.status_code_from_number(999) is grpc.StatusCode.UNKNOWN


def test_subclasses_have_default_codes() -> None:
    assert errors.UnavailableError("x").code is grpc.StatusCode.UNAVAILABLE
    assert repr(errors.NotFoundError("gone")) == "NotFoundError(code=NOT_FOUND, message='gone')"
