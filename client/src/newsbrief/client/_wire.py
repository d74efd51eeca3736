"""A tiny protobuf wire-format codec (varints and length-delimited fields).

It decodes the few well-known messages the client meets without their generated classes:
``google.rpc.Status`` and its details (from the ``grpc-status-details-bin`` trailer) and
``grpc.health.v1`` requests and responses, so that the client needs no googleapis-common-protos
and no grpcio-health-checking. Only what those messages use is supported: wire types 0 (varint),
1 (64-bit), 2 (length-delimited) and 5 (32-bit); groups are rejected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

VARINT = 0
FIXED64 = 1
LENGTH_DELIMITED = 2
FIXED32 = 5

_MAX_VARINT_BYTES = 10


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """Read a base-128 varint at ``pos``; return ``(value, next position)``."""
    result = 0
    shift = 0
    for i in range(_MAX_VARINT_BYTES):
        if pos + i >= len(data):
            raise WireError("truncated varint")
        byte = data[pos + i]
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos + i + 1
        shift += 7
    raise WireError("varint longer than 10 bytes")


def encode_varint(value: int) -> bytes:
    """Encode a non-negative or (two's complement, 64-bit) negative integer as a varint."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def to_signed(value: int, bits: int = 64) -> int:
    """Interpret an unsigned varint value as a two's complement int32/int64."""
    value &= (1 << bits) - 1
    if value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def iter_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field number, wire type, value)``; value is an int or, for wire type 2, bytes."""
    pos = 0
    end = len(data)
    while pos < end:
        key, pos = read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire_type == VARINT:
            value, pos = read_varint(data, pos)
            yield number, wire_type, value
        elif wire_type == LENGTH_DELIMITED:
            length, pos = read_varint(data, pos)
            if pos + length > end:
                raise WireError("truncated length-delimited field")
            yield number, wire_type, bytes(data[pos : pos + length])
            pos += length
        elif wire_type in (FIXED64, FIXED32):
            size = 8 if wire_type == FIXED64 else 4
            if pos + size > end:
                raise WireError("truncated fixed-width field")
            yield number, wire_type, int.from_bytes(data[pos : pos + size], "little")
            pos += size
        else:
            raise WireError(f"unsupported wire type {wire_type}")


@dataclass
class Fields:
    """The decoded fields of one message: field number -> values in wire order."""

    values: dict[int, list[int | bytes]] = field(default_factory=dict)

    def ints(self, number: int) -> list[int]:
        return [v for v in self.values.get(number, []) if isinstance(v, int)]

    def integer(self, number: int, default: int = 0, *, signed: bool = True) -> int:
        found = self.ints(number)
        if not found:
            return default
        return to_signed(found[-1]) if signed else found[-1]

    def bytes_list(self, number: int) -> list[bytes]:
        return [v for v in self.values.get(number, []) if isinstance(v, bytes)]

    def string(self, number: int, default: str = "") -> str:
        found = self.bytes_list(number)
        return found[-1].decode("utf-8", errors="replace") if found else default

    def strings(self, number: int) -> list[str]:
        return [b.decode("utf-8", errors="replace") for b in self.bytes_list(number)]

    def messages(self, number: int) -> list[Fields]:
        return [decode(b) for b in self.bytes_list(number)]

    def message(self, number: int) -> Fields | None:
        found = self.bytes_list(number)
        return decode(found[-1]) if found else None


def decode(data: bytes) -> Fields:
    """Decode one message into its fields (raises WireError on malformed input)."""
    fields = Fields()
    for number, _wire_type, value in iter_fields(data):
        fields.values.setdefault(number, []).append(value)
    return fields


def encode_string(number: int, value: str | bytes) -> bytes:
    """Encode one length-delimited field (empty strings are encoded too; callers skip them)."""
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return encode_varint(number << 3 | LENGTH_DELIMITED) + encode_varint(len(raw)) + raw


def encode_int(number: int, value: int) -> bytes:
    """Encode one varint field."""
    return encode_varint(number << 3 | VARINT) + encode_varint(value)


# --- the well-known messages the client needs --------------------------------------------------

_TYPE_PREFIX = "type.googleapis.com/"
BAD_REQUEST = "google.rpc.BadRequest"
RETRY_INFO = "google.rpc.RetryInfo"
QUOTA_FAILURE = "google.rpc.QuotaFailure"
PRECONDITION_FAILURE = "google.rpc.PreconditionFailure"
ERROR_INFO = "google.rpc.ErrorInfo"


@dataclass
class StatusDetails:
    """What the client reads from a ``google.rpc.Status``."""

    code: int = 0
    message: str = ""
    field_violations: list[tuple[str, str]] = field(default_factory=list)
    retry_delay: float | None = None
    quota_violations: list[tuple[str, str]] = field(default_factory=list)
    precondition_violations: list[tuple[str, str, str]] = field(default_factory=list)
    reason: str = ""
    domain: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


def _duration_seconds(fields: Fields) -> float:
    return fields.integer(1) + fields.integer(2) / 1e9


def decode_status(data: bytes) -> StatusDetails:
    """Decode a serialized ``google.rpc.Status`` and the detail types the client understands.

    Unknown detail types are skipped; malformed bytes raise WireError.
    """
    status = decode(data)
    out = StatusDetails(code=status.integer(1), message=status.string(2))
    for any_msg in status.messages(3):
        type_url = any_msg.string(1)
        type_name = type_url.rsplit("/", 1)[-1] if "/" in type_url else type_url
        payload = any_msg.bytes_list(2)
        detail = decode(payload[-1]) if payload else Fields()
        if type_name == BAD_REQUEST:
            for violation in detail.messages(1):
                out.field_violations.append((violation.string(1), violation.string(2)))
        elif type_name == RETRY_INFO:
            delay = detail.message(1)
            out.retry_delay = _duration_seconds(delay) if delay is not None else 0.0
        elif type_name == QUOTA_FAILURE:
            for violation in detail.messages(1):
                out.quota_violations.append((violation.string(1), violation.string(2)))
        elif type_name == PRECONDITION_FAILURE:
            for violation in detail.messages(1):
                out.precondition_violations.append(
                    (violation.string(1), violation.string(2), violation.string(3))
                )
        elif type_name == ERROR_INFO:
            out.reason = detail.string(1)
            out.domain = detail.string(2)
            for entry in detail.messages(3):
                out.metadata[entry.string(1)] = entry.string(2)
    return out


def encode_health_check_request(service: str) -> bytes:
    """``grpc.health.v1.HealthCheckRequest{service}``."""
    return encode_string(1, service) if service else b""


HEALTH_STATUS_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def decode_health_check_response(data: bytes) -> str:
    """``grpc.health.v1.HealthCheckResponse`` -> "SERVING", "NOT_SERVING", ..."""
    value = decode(data).integer(1)
    return HEALTH_STATUS_NAMES.get(value, f"UNKNOWN({value})")
