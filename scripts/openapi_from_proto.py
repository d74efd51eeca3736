"""Generate the OpenAPI 3.1 document of the HTTP/JSON (Connect) API from the proto.

Usage: ``python scripts/openapi_from_proto.py DESCRIPTOR_SET OUT.json`` where DESCRIPTOR_SET is
written by ``protoc --include_source_info --include_imports --descriptor_set_out`` (``make proto``
does both steps). Every unary RPC becomes ``POST /<package>.<Service>/<Method>`` with a JSON body
in the proto3 JSON mapping (lowerCamelCase names, enums by name, 64-bit integers as strings,
maps as objects); errors are the Connect protocol's JSON error. Descriptions come from the proto's
comments. Streaming RPCs are left out: over HTTP they use Connect's enveloped framing, which
OpenAPI cannot describe.

Hand-written because no generator is installable here (protoc-gen-connect-openapi and gnostic's
protoc-gen-openapi are Go programs published neither on PyPI nor on npm); it covers exactly the
proto features this API uses and fails loudly on any other.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2

F = descriptor_pb2.FieldDescriptorProto

_INT32 = {F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32}
_UINT32 = {F.TYPE_UINT32, F.TYPE_FIXED32}
_INT64 = {F.TYPE_INT64, F.TYPE_SINT64, F.TYPE_SFIXED64, F.TYPE_UINT64, F.TYPE_FIXED64}

# Connect error codes and the HTTP status each is sent with (connectrpc.com/docs/protocol).
ERROR_STATUSES = {
    "400": (
        "invalid_argument",
        "A bad request: the field violations name each bad field. Also `failed_precondition`: "
        "a capability the request needs (e.g. a translation model) is not installed.",
    ),
    "401": ("unauthenticated", "No API key (send `Authorization: Bearer KEY` or `x-api-key`)."),
    "403": ("permission_denied", "The API key is not valid for this server."),
    "429": (
        "resource_exhausted",
        "Over the key's quota or the server's queue; retry after the `Retry-After` header.",
    ),
    "500": ("internal", "An internal error; the server log has it under the request id."),
    "503": ("unavailable", "Starting or draining; retry after the `Retry-After` header."),
    "504": ("deadline_exceeded", "The request's deadline passed; the work was cancelled."),
}
CONNECT_CODES = [
    "canceled",
    "unknown",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal",
    "unavailable",
    "data_loss",
    "unauthenticated",
]


# Well-known types in their proto3 JSON form (they are not messages of the target file).
WELL_KNOWN: dict[str, dict[str, Any]] = {
    ".google.protobuf.Timestamp": {
        "type": "string",
        "format": "date-time",
        "description": "RFC 3339 time in UTC, e.g. 2026-05-20T10:00:00Z "
        "(google.protobuf.Timestamp).",
    },
    ".google.protobuf.Any": {
        "type": "object",
        "description": "A google.protobuf.Any: `@type` names the message, the other keys are its "
        "fields.",
        "properties": {"@type": {"type": "string"}},
        "additionalProperties": True,
    },
}


def _comments(file: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    out: dict[tuple[int, ...], str] = {}
    for loc in file.source_code_info.location:
        text = " ".join(line.strip() for line in loc.leading_comments.strip().splitlines())
        if text:
            out[tuple(loc.path)] = text
    return out


def _schema_name(type_name: str, package: str) -> str:
    return type_name.lstrip(".").removeprefix(package + ".")


class Generator:
    def __init__(self, files: list[descriptor_pb2.FileDescriptorProto], target: str) -> None:
        self.file = next(f for f in files if f.name == target)
        self.package = self.file.package
        self.comments = _comments(self.file)
        self.messages: dict[str, tuple[descriptor_pb2.DescriptorProto, tuple[int, ...]]] = {}
        self.enums: dict[str, tuple[descriptor_pb2.EnumDescriptorProto, tuple[int, ...]]] = {}
        for i, message in enumerate(self.file.message_type):
            self._collect(message, f".{self.package}.{message.name}", (4, i))
        for i, enum in enumerate(self.file.enum_type):
            self.enums[f".{self.package}.{enum.name}"] = (enum, (5, i))

    def _collect(
        self, message: descriptor_pb2.DescriptorProto, name: str, path: tuple[int, ...]
    ) -> None:
        self.messages[name] = (message, path)
        for i, nested in enumerate(message.nested_type):
            self._collect(nested, f"{name}.{nested.name}", (*path, 3, i))
        for i, enum in enumerate(message.enum_type):
            self.enums[f"{name}.{enum.name}"] = (enum, (*path, 4, i))

    def _field_schema(self, field: descriptor_pb2.FieldDescriptorProto) -> dict[str, Any]:
        if field.type == F.TYPE_MESSAGE and field.type_name in WELL_KNOWN:
            return dict(WELL_KNOWN[field.type_name])
        if field.type == F.TYPE_MESSAGE:
            entry, _ = self.messages[field.type_name]
            if entry.options.map_entry:
                value = self._field_schema(entry.field[1])
                return {"type": "object", "additionalProperties": value}
            return {"$ref": f"#/components/schemas/{_schema_name(field.type_name, self.package)}"}
        if field.type == F.TYPE_ENUM:
            return {"$ref": f"#/components/schemas/{_schema_name(field.type_name, self.package)}"}
        if field.type == F.TYPE_STRING:
            return {"type": "string"}
        if field.type == F.TYPE_BYTES:
            return {"type": "string", "contentEncoding": "base64"}
        if field.type == F.TYPE_BOOL:
            return {"type": "boolean"}
        if field.type in _INT32:
            return {"type": "integer", "format": "int32"}
        if field.type in _UINT32:
            return {"type": "integer", "minimum": 0, "maximum": 2**32 - 1}
        if field.type in _INT64:
            return {"type": ["integer", "string"], "format": "int64"}
        if field.type in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
            return {
                "type": "number",
                "format": "double" if field.type == F.TYPE_DOUBLE else "float",
            }
        raise SystemExit(f"unsupported field type {field.type} of {field.name}")

    def _message_schema(self, name: str) -> dict[str, Any]:
        message, path = self.messages[name]
        properties: dict[str, Any] = {}
        oneofs: dict[int, list[str]] = {}
        for i, field in enumerate(message.field):
            schema = self._field_schema(field)
            if field.label == F.LABEL_REPEATED and not self._is_map(field):
                schema = {"type": "array", "items": schema}
            doc = self.comments.get((*path, 2, i))
            if doc:
                schema = {**schema, "description": doc}  # 3.1: $ref may have siblings
            properties[field.json_name] = schema
            if field.HasField("oneof_index") and not field.proto3_optional:
                oneofs.setdefault(field.oneof_index, []).append(field.json_name)
        out: dict[str, Any] = {"type": "object", "properties": properties}
        doc = self.comments.get(path)
        if doc:
            out["description"] = doc
        for members in oneofs.values():
            # proto3 JSON: at most one member of a oneof is set.
            out.setdefault("allOf", []).extend(
                {"not": {"required": [a, b]}}
                for n, a in enumerate(members)
                for b in members[n + 1 :]
            )
        return out

    def _is_map(self, field: descriptor_pb2.FieldDescriptorProto) -> bool:
        if field.type != F.TYPE_MESSAGE or field.type_name in WELL_KNOWN:
            return False
        return self.messages[field.type_name][0].options.map_entry

    def _enum_schema(self, name: str) -> dict[str, Any]:
        enum, path = self.enums[name]
        out: dict[str, Any] = {"type": "string", "enum": [v.name for v in enum.value]}
        values = [
            f"{v.name}: {self.comments[(*path, 2, i)]}"
            for i, v in enumerate(enum.value)
            if (*path, 2, i) in self.comments
        ]
        doc = " ".join(filter(None, [self.comments.get(path, ""), *values]))
        if doc:
            out["description"] = doc
        return out

    def document(self) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        used: set[str] = set()
        error_ref = {"$ref": "#/components/schemas/connect.Error"}
        for s, service in enumerate(self.file.service):
            for m, method in enumerate(service.method):
                if method.client_streaming or method.server_streaming:
                    continue
                used.update((method.input_type, method.output_type))
                doc = self.comments.get((6, s, 2, m), method.name)
                responses: dict[str, Any] = {
                    "200": {
                        "description": "The response.",
                        "content": {"application/json": {"schema": self._ref(method.output_type)}},
                    }
                }
                errors = {
                    **{
                        status: f"`{code}`: {text}"
                        for status, (code, text) in ERROR_STATUSES.items()
                    },
                    "413": "`resource_exhausted`: the body is larger than the server's "
                    "max_message_bytes.",
                    "408": "`deadline_exceeded`: the body did not arrive within the server's "
                    "http.body_timeout_s.",
                }
                if service.name == "JobService":
                    errors["404"] = "`not_found`: no such job for this API key."
                    errors["409"] = (
                        "`already_exists`: the idempotency key names a job created with other "
                        "articles or options."
                    )
                for status, description in errors.items():
                    responses[status] = {
                        "description": description,
                        "content": {"application/json": {"schema": error_ref}},
                    }
                responses["415"] = {
                    "description": "The body is not JSON or protobuf: send "
                    "`Content-Type: application/json`."
                }
                paths[f"/{self.package}.{service.name}/{method.name}"] = {
                    "post": {
                        "operationId": f"{service.name}_{method.name}",
                        "summary": doc.split(". ")[0].rstrip("."),
                        "description": doc,
                        "tags": [service.name],
                        "parameters": [
                            {
                                "name": "x-request-id",
                                "in": "header",
                                "required": False,
                                "description": "Request id echoed in the response headers "
                                "(a new one when absent).",
                                "schema": {"type": "string", "maxLength": 64},
                            }
                        ],
                        "requestBody": {
                            "required": True,
                            "content": {
                                "application/json": {"schema": self._ref(method.input_type)}
                            },
                        },
                        "responses": responses,
                    }
                }
        schemas: dict[str, Any] = {}
        pending = sorted(used)
        while pending:
            name = pending.pop()
            key = _schema_name(name, self.package)
            if key in schemas:
                continue
            if name in self.enums:
                schemas[key] = self._enum_schema(name)
                continue
            schemas[key] = self._message_schema(name)
            message, _ = self.messages[name]
            for field in message.field:
                if field.type in (F.TYPE_MESSAGE, F.TYPE_ENUM):
                    target = field.type_name
                    if target in WELL_KNOWN:
                        continue
                    if field.type == F.TYPE_MESSAGE and self.messages[target][0].options.map_entry:
                        value = self.messages[target][0].field[1]
                        if value.type in (F.TYPE_MESSAGE, F.TYPE_ENUM):
                            pending.append(value.type_name)
                        continue
                    pending.append(target)
        schemas["connect.Error"] = {
            "type": "object",
            "description": "A Connect error. `details[].debug` holds each detail as JSON: "
            "google.rpc.BadRequest (fieldViolations), google.rpc.RetryInfo (retryDelay), "
            "google.rpc.QuotaFailure, google.rpc.PreconditionFailure.",
            "properties": {
                "code": {"type": "string", "enum": CONNECT_CODES},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "type": {"type": "string"},
                            "value": {"type": "string", "contentEncoding": "base64"},
                            "debug": {"type": "object"},
                        },
                        "required": ["type", "value"],
                    },
                },
            },
            "required": ["code"],
        }
        service_doc = " ".join(self.comments.get((6, s), "") for s in range(len(self.file.service)))
        return {
            "openapi": "3.1.0",
            "info": {
                "title": f"{self.package} HTTP/JSON API",
                "version": self.package.rsplit(".", 1)[-1],
                "description": f"{service_doc} Generated from {self.file.name} by "
                "scripts/openapi_from_proto.py: do not edit. Each call is a POST of a JSON body "
                "(Connect protocol, proto3 JSON mapping).",
            },
            "paths": paths,
            "components": {
                "schemas": dict(sorted(schemas.items())),
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                },
            },
            # Keys are optional: a server configured without keys needs none.
            "security": [{}, {"bearer": []}, {"apiKey": []}],
        }

    def _ref(self, type_name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{_schema_name(type_name, self.package)}"}


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    files = descriptor_pb2.FileDescriptorSet.FromString(Path(argv[1]).read_bytes()).file
    target = next(f.name for f in files if f.service)
    doc = Generator(list(files), target).document()
    Path(argv[2]).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
