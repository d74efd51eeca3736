"""The client's tiny wire decoder against encodings made by the real generated classes."""

from __future__ import annotations

import pytest
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2

from newsbrief.client import _wire
from newsbrief.v1 import newsbrief_pb2 as pb


def _status(*details: Message, code: int = 3, message: str = "bad request") -> bytes:
    status = status_pb2.Status(code=code, message=message)
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    return status.SerializeToString()


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**31 - 1, 2**32, 2**63 - 1, 2**64 - 1])
def test_varint_round_trip(value: int) -> None:
    encoded = _wire.encode_varint(value)
    assert _wire.read_varint(encoded, 0) == (value, len(encoded))


def test_negative_int32_is_ten_bytes_and_decodes_signed() -> None:
    raw = status_pb2.Status(code=-7).SerializeToString()
    assert _wire.decode(raw).integer(1) == -7
    assert _wire.encode_int(1, -7) == raw


def test_bad_request_retry_info_quota_precondition_error_info() -> None:
    raw = _status(
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field="text", description="empty"),
                error_details_pb2.BadRequest.FieldViolation(
                    field="target_languages[1]", description="unknown language 'xx' (한국어)"
                ),
            ]
        ),
        error_details_pb2.RetryInfo(
            retry_delay=duration_pb2.Duration(seconds=2, nanos=250_000_000)
        ),
        error_details_pb2.QuotaFailure(
            violations=[error_details_pb2.QuotaFailure.Violation(subject="key", description="q")]
        ),
        error_details_pb2.PreconditionFailure(
            violations=[
                error_details_pb2.PreconditionFailure.Violation(
                    type="MODEL", subject="nllb", description="install it"
                )
            ]
        ),
        error_details_pb2.ErrorInfo(reason="R", domain="newsbrief", metadata={"a": "b"}),
    )
    details = _wire.decode_status(raw)
    assert details.code == 3
    assert details.message == "bad request"
    assert details.field_violations == [
        ("text", "empty"),
        ("target_languages[1]", "unknown language 'xx' (한국어)"),
    ]
    assert details.retry_delay == pytest.approx(2.25)
    assert details.quota_violations == [("key", "q")]
    assert details.precondition_violations == [("MODEL", "nllb", "install it")]
    assert (details.reason, details.domain, details.metadata) == ("R", "newsbrief", {"a": "b"})


def test_unknown_detail_types_and_empty_status_are_skipped() -> None:
    raw = _status(error_details_pb2.DebugInfo(detail="x"), pb.Brief(headline="h"), code=13)
    details = _wire.decode_status(raw)
    assert details.code == 13
    assert details.field_violations == [] and details.retry_delay is None
    assert _wire.decode_status(b"") == _wire.StatusDetails()


def test_zero_retry_delay_is_zero_not_none() -> None:
    details = _wire.decode_status(_status(error_details_pb2.RetryInfo()))
    assert details.retry_delay == 0.0


def test_fixed_width_fields_are_read_and_skipped() -> None:
    raw = pb.Timings(total_ms=1.5, stages_ms={"x": 2.0}).SerializeToString()
    fields = _wire.decode(raw)
    assert fields.ints(2) == [int.from_bytes(raw[-8:], "little")]
    assert len(fields.messages(1)) == 1


@pytest.mark.parametrize(
    "raw",
    [b"\x0a\x05ab", b"\x08", b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", b"\x0b", b"\x00"],
)
def test_malformed_bytes_raise_wire_error(raw: bytes) -> None:
    with pytest.raises(_wire.WireError):
        _wire.decode(raw)


@pytest.mark.parametrize("service", ["", "newsbrief.v1.SummarizerService", "ünïcode"])
def test_health_request_matches_grpc_health(service: str) -> None:
    expected = health_pb2.HealthCheckRequest(service=service).SerializeToString()
    assert _wire.encode_health_check_request(service) == expected


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (health_pb2.HealthCheckResponse.UNKNOWN, "UNKNOWN"),
        (health_pb2.HealthCheckResponse.SERVING, "SERVING"),
        (health_pb2.HealthCheckResponse.NOT_SERVING, "NOT_SERVING"),
        (health_pb2.HealthCheckResponse.SERVICE_UNKNOWN, "SERVICE_UNKNOWN"),
    ],
)
def test_health_response_matches_grpc_health(status: int, name: str) -> None:
    raw = health_pb2.HealthCheckResponse(status=status).SerializeToString()
    assert _wire.decode_health_check_response(raw) == name
