"""The HTTP door's edge (ASGI middleware around every route): what happens before a body is
read, and one record per call.

For each request: a request id (the caller's, when safe, or a new one) in the logging context
and in the response headers; the ``Host`` checked against the allowed names (DNS rebinding);
security headers on every response. For a call of the service it then checks the API key
from the headers alone, so a caller without a valid key is refused before one byte of its body
is read, inflated or parsed; reads a unary call's body with a size bound and a time bound (413 /
408); then begins the call through the shared :class:`CallPolicy` (quota, admission: a client
trickling its body holds a connection, never an admission slot); and writes one access-log line
and one metrics sample per call, refused ones included.
"""

from __future__ import annotations

import asyncio
import contextvars
import fnmatch
import ipaddress
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsbrief.service.errors import (
    DeadlineExceeded,
    MessageTooLarge,
    NewsbriefError,
    QuotaExceeded,
)
from newsbrief.service.http.errors import HTTP_STATUS, error_body, retry_after, with_debug_details
from newsbrief.service.observability.logs import request_id_var
from newsbrief.service.observability.telemetry import Telemetry
from newsbrief.service.serving.access import request_id as new_request_id
from newsbrief.service.serving.policy import STREAMING, Call, CallPolicy
from newsbrief.service.serving.status import Code, code_for
from newsbrief.service.settings import HttpSettings

log = logging.getLogger(__name__)
access_log = logging.getLogger("newsbrief.access")

REQUEST_ID_HEADER = "x-request-id"
API_KEY_HEADER = "x-api-key"
HOW_TO_SEND_KEY = "as 'Authorization: Bearer KEY' or in the 'x-api-key' header"
TRANSPORT = "http"

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
]

# Codes for calls refused by the HTTP layer before any handler (for the log and metrics).
_CODE_OF_HTTP = {
    400: Code.INVALID_ARGUMENT,
    401: Code.UNAUTHENTICATED,
    403: Code.PERMISSION_DENIED,
    404: Code.UNIMPLEMENTED,
    405: Code.UNIMPLEMENTED,
    408: Code.DEADLINE_EXCEEDED,
    413: Code.RESOURCE_EXHAUSTED,
    415: Code.INVALID_ARGUMENT,
    429: Code.RESOURCE_EXHAUSTED,
    503: Code.UNAVAILABLE,
    504: Code.DEADLINE_EXCEEDED,
}


@dataclass
class HttpCall:
    """One call of the service over HTTP, as the edge and the adapter see it."""

    method: str
    call: Call | None = None
    code: Code | None = None
    error: BaseException | None = None


#: The call being served (set by the edge; read by the Connect adapter in the same task).
current_call: contextvars.ContextVar[HttpCall | None] = contextvars.ContextVar(
    "newsbrief_http_call", default=None
)


def api_key_of(headers: dict[str, str]) -> str:
    """The API key of a request: ``Authorization: Bearer KEY`` or ``x-api-key: KEY``."""
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get(API_KEY_HEADER, "")


class Edge:
    """The ASGI middleware described in the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        service_paths: tuple[str, ...],
        policy: CallPolicy,
        settings: HttpSettings,
        max_body_bytes: int,
        telemetry: Telemetry,
        access_log_enabled: bool,
        request_id_max_chars: int,
    ) -> None:
        self._app = app
        self._prefixes = tuple(path.rstrip("/") + "/" for path in service_paths)
        self._policy = policy
        self._settings = settings
        self._max_body = max_body_bytes
        self._telemetry = telemetry
        self._access = access_log_enabled
        self._id_chars = request_id_max_chars
        self._hosts = [h.lower() for h in settings.allowed_hosts]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())
        }
        request_id = new_request_id(headers.get(REQUEST_ID_HEADER, ""), max_chars=self._id_chars)
        request_id_var.set(request_id)
        send = _with_headers(send, request_id)
        if not self._host_allowed(headers.get("host", "")):
            await _plain(
                send, 400, "this server does not answer for that Host (http.allowed_hosts)"
            )
            return
        path = scope.get("path", "")
        prefix = next((p for p in self._prefixes if path.startswith(p)), None)
        if prefix is None or scope.get("method") != "POST":
            await self._app(scope, receive, send)
            return
        await self._serve_call(path, path[len(prefix) :], headers, scope, receive, send)

    def _host_allowed(self, host: str) -> bool:
        """Whether ``host`` (the Host header) names this server: any IP literal or localhost;
        any name when ``allowed_hosts`` is empty and the server needs an API key (a page that
        rebinds a name to this address has no key); else a name matching ``allowed_hosts``."""
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]").lower()
        if not name or name == "localhost":
            return True
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            pass
        if "*" in self._hosts or (not self._hosts and self._policy.keys.enabled):
            return True
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self._hosts)

    async def _serve_call(
        self,
        path: str,
        method: str,
        headers: dict[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        started = time.monotonic()
        record = HttpCall(method)
        metric = self._telemetry.request(TRANSPORT, path, headers).__enter__()
        status: list[int] = []
        grpc_web = headers.get("content-type", "").startswith("application/grpc")

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                if isinstance(record.error, MessageTooLarge) and message["status"] == 429:
                    message = {**message, "status": 413}  # "send less": retrying will not help
                status.append(int(message["status"]))
            await send(message)

        try:
            key = api_key_of(headers)
            timeout_s = _timeout_s(headers)
            try:
                # the key first, from the headers alone: no body is read for a caller without one
                self._policy.authenticate(key, how_to_send=HOW_TO_SEND_KEY)
                body: bytes | None = None
                if method not in STREAMING:
                    # then the body (bounded in size and time), before the call takes an
                    # admission slot: a client trickling its body holds a connection, not a slot
                    read = await self._read_body(receive, headers)
                    if isinstance(read, NewsbriefError):
                        raise read
                    body = read
                if timeout_s is not None:
                    timeout_s = max(0.0, timeout_s - (time.monotonic() - started))
                record.call = self._policy.begin(
                    method,
                    transport=TRANSPORT,
                    key=key,
                    how_to_send=HOW_TO_SEND_KEY,
                    peer=_peer(scope),
                    request_id=request_id_var.get(),
                    timeout_s=timeout_s,
                )
            except NewsbriefError as exc:
                record.error = exc
                record.code = code_for(exc)
                await _refuse(send_status, exc, grpc_web)
                return
            if body is not None:
                receive = _replay(body, receive)
            token = current_call.set(record)
            try:
                await self._app(scope, receive, send_status)
            finally:
                current_call.reset(token)
        finally:
            if record.call is not None:
                record.call.end()
            code = record.code
            if code is None:
                code = (
                    _CODE_OF_HTTP.get(status[0], Code.UNKNOWN)
                    if status and status[0] >= 400
                    else Code.OK
                )
            metric.code = code.name
            if isinstance(record.error, QuotaExceeded):
                self._telemetry.quota_rejected(TRANSPORT)
            metric.__exit__(None, None, None)
            self._log(path, method, code, started, scope)

    async def _read_body(self, receive: Receive, headers: dict[str, str]) -> bytes | NewsbriefError:
        """The whole body of a unary call, or the error that refuses it: larger than
        ``max_message_bytes`` (by its Content-Length, or as it arrives), or not all received
        within ``http.body_timeout_s``."""
        limit = self._max_body
        try:
            declared = int(headers.get("content-length", "0") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self._settings.body_timeout_s
        while True:
            left = deadline - time.monotonic()
            try:
                message = await asyncio.wait_for(receive(), max(left, 0.001))
            except TimeoutError:
                return BodyTimeout(
                    f"the request body was not received within {self._settings.body_timeout_s:g}"
                    " s (http.body_timeout_s)"
                )
            if message["type"] == "http.disconnect":
                return BodyTimeout("the client closed the connection before its body ended")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _log(self, path: str, method: str, code: Code, started: float, scope: Scope) -> None:
        if not self._access:
            return
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        peer = _peer(scope)
        request_id = request_id_var.get()
        access_log.info(
            "HTTP %s %s %.1fms peer=%s request_id=%s",
            path,
            code.name,
            latency_ms,
            peer,
            request_id,
            extra={
                "fields": {
                    "transport": TRANSPORT,
                    "method": method,
                    "code": code.name,
                    "latency_ms": latency_ms,
                    "peer": peer,
                    "request_id": request_id,
                }
            },
        )


class BodyTimeout(DeadlineExceeded):
    """A request body not received in time (HTTP 408)."""


def _too_large(limit: int) -> MessageTooLarge:
    return MessageTooLarge(f"the request body is larger than {limit} bytes (max_message_bytes)")


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "-"


def _timeout_s(headers: dict[str, str]) -> float | None:
    """The caller's deadline: Connect's ``connect-timeout-ms`` or gRPC-Web's ``grpc-timeout``."""
    raw = headers.get("connect-timeout-ms", "")
    if raw.isdigit() and len(raw) <= 10:
        return int(raw) / 1000
    grpc_timeout = headers.get("grpc-timeout", "")
    units = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
    if len(grpc_timeout) >= 2 and grpc_timeout[:-1].isdigit() and grpc_timeout[-1] in units:
        return int(grpc_timeout[:-1]) * units[grpc_timeout[-1]]
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields ``body`` once, then the connection's own events (a
    disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_headers(send: Send, request_id: str) -> Send:
    """``send`` adding the request id and the security headers to the response's headers, and
    spelling out the google.rpc details of a JSON error body (:func:`with_debug_details`)."""
    held: list[Message] = []  # the start of a JSON error response, until its body

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            skip = {REQUEST_ID_HEADER.encode(), *(name for name, _ in SECURITY_HEADERS)}
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in skip]
            headers.append((REQUEST_ID_HEADER.encode(), request_id.encode("latin-1")))
            headers.extend(SECURITY_HEADERS)
            message = {**message, "headers": headers}
            if message["status"] >= 400 and (b"content-type", b"application/json") in headers:
                held.append(message)
                return
        elif held and message["type"] == "http.response.body" and not message.get("more_body"):
            start = held.pop()
            body = with_debug_details(message.get("body", b""))
            start["headers"] = [
                (k, v) for k, v in start["headers"] if k.lower() != b"content-length"
            ] + [(b"content-length", str(len(body)).encode())]
            await send(start)
            message = {**message, "body": body}
        await send(message)

    return wrapped


async def _refuse(
    send: Callable[[Message], Awaitable[None]], exc: NewsbriefError, grpc_web: bool
) -> None:
    """Answer a call refused before its body: a Connect JSON error (the HTTP status the Connect
    protocol gives its code, 413 for a body too large, ``Retry-After`` with a retry delay), or
    for gRPC-Web a trailers-only response."""
    code, body = error_body(exc, request_id_var.get())
    headers: list[tuple[bytes, bytes]] = []
    if (delay := retry_after(exc)) is not None:
        headers.append((b"retry-after", delay.encode()))
    if grpc_web:
        message = json.loads(body).get("message", "")
        headers += [
            (b"content-type", b"application/grpc-web+proto"),
            (b"grpc-status", str(int(code)).encode()),
            (b"grpc-message", quote(message, safe=" ").encode("ascii")),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    status = HTTP_STATUS[code]
    if isinstance(exc, MessageTooLarge):
        status = 413
    elif isinstance(exc, BodyTimeout):
        status = 408
    headers += [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status in (408, 413):
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _plain(send: Send, status: int, text: str) -> None:
    body = json.dumps({"code": "invalid_argument", "message": text}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
