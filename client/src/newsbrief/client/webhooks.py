"""Verify a newsbrief webhook (a finished job POSTed to its callback URL).

Each delivery carries::

    Newsbrief-Delivery:  dlv_...      the same for every repeat of one delivery (drop repeats)
    Newsbrief-Timestamp: 1760000000   Unix seconds when this attempt was signed
    Newsbrief-Signature: v1=<hex>     HMAC-SHA256(secret, timestamp + "." + body)
    Newsbrief-Job:       job_...
    Newsbrief-Attempt:   1

Delivery is at least once: keep the delivery ids you have handled and answer 2xx to a repeat.
Example (any web framework; ``body`` is the raw request body, before any JSON parsing)::

    from newsbrief.client.webhooks import verify, WebhookVerificationError
    try:
        delivery_id = verify(body, request.headers, secret)
    except WebhookVerificationError:
        return 400
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

SIGNATURE_HEADER = "Newsbrief-Signature"
TIMESTAMP_HEADER = "Newsbrief-Timestamp"
DELIVERY_HEADER = "Newsbrief-Delivery"
DEFAULT_TOLERANCE_S = 300.0


class WebhookVerificationError(ValueError):
    """The delivery is not signed by a secret given, or its timestamp is too old or too new."""


def _header(headers: Mapping[str, str], name: str) -> str:
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return str(value)
    return ""


def signature(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The ``Newsbrief-Signature`` value of ``body`` signed at ``timestamp``."""
    key = secret.encode() if isinstance(secret, str) else secret
    mac = hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str | bytes | list[str | bytes],
    *,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> str:
    """Check a delivery's signature (constant-time) and its timestamp (within ``tolerance_s``
    of ``now``); return its delivery id. ``secret`` may be a list during a key rotation."""
    stamp = _header(headers, TIMESTAMP_HEADER)
    given = _header(headers, SIGNATURE_HEADER)
    if not stamp or not given:
        raise WebhookVerificationError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER}")
    try:
        sent = int(stamp)
    except ValueError:
        raise WebhookVerificationError(f"{TIMESTAMP_HEADER} is not a number") from None
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance_s:
        raise WebhookVerificationError(
            f"{TIMESTAMP_HEADER} is {current - sent:.0f} s away from now (a replay?)"
        )
    secrets = secret if isinstance(secret, list) else [secret]
    offered = [part.strip() for part in given.split(",")]
    for key in secrets:
        expected = signature(key, stamp, body)
        if any(hmac.compare_digest(expected, part) for part in offered):
            return _header(headers, DELIVERY_HEADER)
    raise WebhookVerificationError("the signature does not match the body")


def parse(body: bytes) -> dict[str, Any]:
    """The delivery's body: ``{"job": {...}}`` (GetJobResponse in proto3 JSON)."""
    data: dict[str, Any] = json.loads(body)
    return data
