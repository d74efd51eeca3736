"""Webhook delivery of finished jobs: signed POSTs to callback URLs the operator allowed,
retried with exponential backoff and jitter for a bounded time, every attempt recorded.

Signature: ``Newsbrief-Signature: v1=<hex>``, the HMAC-SHA256 under the server's
``jobs.webhook.secret`` of ``<Newsbrief-Timestamp> + "." + <body bytes>``. Every attempt of one
delivery carries the same ``Newsbrief-Delivery`` id: delivery is at least once (a receiver that
answered 2xx too late, or a replica that died after sending, gets it again), so a receiver drops
an id it has seen.

Callback hosts (``jobs.webhook.allowed_hosts``): a URL's host must match an entry (a name, a
``*.`` subdomain wildcard, an IP address or CIDR network); the name is resolved at each attempt
and every address must be public unless it lies in a listed address or network; the request goes
to the address that was checked (no second resolution, so DNS rebinding cannot redirect it), with
the URL's host name in ``Host`` and in TLS SNI and certificate checks. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import importlib
import ipaddress
import json
import logging
import random
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from google.protobuf import json_format

from newsbrief.service.jobs import convert
from newsbrief.service.jobs.claims import ClaimLoop
from newsbrief.service.jobs.store import DELIVERED, FAILED, PENDING, DeliveryWork, JobStore
from newsbrief.service.settings import WebhookSettings
from newsbrief.v1 import newsbrief_pb2 as pb

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Newsbrief-Signature"
TIMESTAMP_HEADER = "Newsbrief-Timestamp"
DELIVERY_HEADER = "Newsbrief-Delivery"
JOB_HEADER = "Newsbrief-Job"
ATTEMPT_HEADER = "Newsbrief-Attempt"
USER_AGENT = "newsbrief-webhook/1"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header value of ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


class CallbackRefused(ValueError):
    """A callback URL the allow-list or the address check refuses (the message says why)."""


@dataclass(frozen=True)
class Target:
    """Where one attempt connects: the checked address in the URL, the name for Host/SNI."""

    url: str
    host_header: str
    server_name: str | None


class CallbackPolicy:
    """The operator's allow-list of callback hosts (see the module's docstring)."""

    def __init__(self, allowed: list[str], max_url_chars: int = 2048) -> None:
        self.names: set[str] = set()
        self.suffixes: list[str] = []
        self.networks: list[Network] = []
        self.max_url_chars = max_url_chars
        for entry in (e.strip().lower().rstrip(".") for e in allowed):
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if entry.startswith("*."):
                self.suffixes.append(entry[1:])
            else:
                self.names.add(entry)

    @property
    def enabled(self) -> bool:
        return bool(self.names or self.suffixes or self.networks)

    def check_url(self, url: str) -> tuple[str, str, int]:
        """Scheme, host and port of an allowed URL, or CallbackRefused."""
        if len(url) > self.max_url_chars:
            raise CallbackRefused(f"is longer than {self.max_url_chars} characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise CallbackRefused(f"is not a valid URL ({exc})") from None
        if parts.scheme not in ("http", "https"):
            raise CallbackRefused("must be an http:// or https:// URL")
        if parts.username is not None or parts.password is not None:
            raise CallbackRefused("must not carry a user name or password")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise CallbackRefused("has no host")
        if not self.enabled:
            raise CallbackRefused(
                "callbacks are not enabled on this server (no jobs.webhook.allowed_hosts)"
            )
        literal = _address(host)
        if literal is not None:
            allowed = self._listed(literal)
        else:
            allowed = host in self.names or any(host.endswith(s) for s in self.suffixes)
        if not allowed:
            raise CallbackRefused(
                f"host {host!r} is not in the server's jobs.webhook.allowed_hosts"
            )
        return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)

    def _listed(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def check_addresses(self, host: str, addresses: list[Address]) -> Address:
        """The address to connect to: every one must be public or listed."""
        if not addresses:
            raise CallbackRefused(f"host {host!r} has no address")
        for address in addresses:
            if not (address.is_global or self._listed(address)):
                raise CallbackRefused(
                    f"host {host!r} resolves to {address}, a non-public address not listed in "
                    "jobs.webhook.allowed_hosts"
                )
        return addresses[0]

    async def resolve(self, url: str) -> Target:
        """Check ``url`` and resolve its host (without blocking): where to connect."""
        scheme, host, port = self.check_url(url)
        literal = _address(host)
        if literal is not None:
            addresses = [literal]
        else:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise CallbackRefused(f"host {host!r} cannot be resolved ({exc})") from None
            addresses = []
            for *_, sockaddr in infos:
                address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
                if address not in addresses:
                    addresses.append(address)
        address = self.check_addresses(host, addresses)
        parts = urlsplit(url)
        shown = f"[{address}]" if address.version == 6 else str(address)
        netloc = f"{shown}:{port}"
        host_header = parts.netloc.rsplit("@", 1)[-1]
        return Target(
            url=urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")),
            host_header=host_header,
            server_name=host if scheme == "https" and literal is None else None,
        )


def _address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def backoff_s(settings: WebhookSettings, attempt: int, rng: random.Random) -> float:
    """The wait after failed attempt number ``attempt`` (1-based): exponential, capped, with
    jitter of +/- ``settings.jitter``."""
    base = min(settings.max_backoff_s, settings.initial_backoff_s * 2 ** max(attempt - 1, 0))
    return base * rng.uniform(1 - settings.jitter, 1 + settings.jitter)


class Deliverer(ClaimLoop[DeliveryWork]):
    """Sends due deliveries (claimed with a lease, so one replica sends each attempt) until
    :meth:`stop`. ``wake()`` sends at once what a job of this replica just queued."""

    def __init__(
        self,
        store: JobStore,
        settings: WebhookSettings,
        policy: CallbackPolicy,
        *,
        owner: str,
        poll_s: float,
    ) -> None:
        super().__init__(store, concurrency=settings.concurrency, poll_s=poll_s)
        self._settings = settings
        self._policy = policy
        self._owner = owner
        self._secret = settings.secret.get_secret_value().encode()
        self._rng = random.Random()
        # one connection pool for every delivery of this replica, made at the first one (httpx
        # is imported then, not by a server that sends none); closed by stop()
        self._client: httpx.AsyncClient | None = None
        self._loop_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._claim_loop(), name="newsbrief-webhooks")

    async def stop(self, grace: float) -> None:
        self._stopping.set()
        self._wake.set()
        if self._loop_task is not None:
            await asyncio.wait({self._loop_task}, timeout=grace)
            self._loop_task.cancel()
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace)
            for task in self._running:
                task.cancel()
        if self._client is not None:
            await self._client.aclose()

    async def _http(self) -> httpx.AsyncClient:
        """The connection pool of the deliveries (made at the first: httpx imported in a thread,
        as its import takes a while, then the client on the event loop)."""
        if self._client is None:
            httpx = await asyncio.to_thread(importlib.import_module, "httpx")
            if self._client is None:  # not made by another delivery meanwhile
                self._client = httpx.AsyncClient(
                    timeout=self._settings.timeout_s, follow_redirects=False, trust_env=False
                )
        return self._client

    async def _claim(self) -> DeliveryWork | None:
        lease_s = self._settings.timeout_s * 2 + 5.0
        try:
            return await self._store.call(
                self._store.claim_delivery, self._owner, now=time.time(), lease_s=lease_s
            )
        except Exception:
            log.exception("cannot read due webhook deliveries")
            return None

    def _start(self, work: DeliveryWork) -> asyncio.Task[None]:
        return asyncio.create_task(self._deliver(work))

    async def _deliver(self, work: DeliveryWork) -> None:
        try:
            await self._attempt(work)
        except Exception:
            log.exception("webhook delivery %s failed unexpectedly", work.id)
        finally:
            self._slots.release()

    async def _attempt(self, work: DeliveryWork) -> None:
        job = await self._store.call(self._store.get, None, work.job_id)
        message = pb.GetJobResponse(job=convert.job_to_pb(job, with_webhook=False))
        body = json.dumps(
            json_format.MessageToDict(message), ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")
        attempt = work.attempt_count + 1
        started = time.monotonic()
        at = time.time()
        status, error, final = 0, "", False
        client = await self._http()
        import httpx  # imported by _http, in a thread

        try:
            target = await self._policy.resolve(work.url)
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Host": target.host_header,
                DELIVERY_HEADER: work.id,
                JOB_HEADER: work.job_id,
                ATTEMPT_HEADER: str(attempt),
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            }
            extensions = {"sni_hostname": target.server_name} if target.server_name else {}
            async with client.stream(
                "POST", target.url, content=body, headers=headers, extensions=extensions
            ) as response:
                status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except CallbackRefused as exc:
            error, final = f"refused: {exc}", True
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        duration_ms = (time.monotonic() - started) * 1000
        first = work.first_attempt_at or at
        now = time.time()
        if not error:
            state, next_at = DELIVERED, now
            log.info(
                "webhook %s of job %s delivered (attempt %d, HTTP %d, %.0f ms after the job "
                "finished)",
                work.id,
                work.job_id,
                attempt,
                status,
                (now - (job.finished_at or now)) * 1000,
            )
        else:
            wait = backoff_s(self._settings, attempt, self._rng)
            if final or now + wait - first > self._settings.max_age_s:
                state, next_at = FAILED, now
                log.warning(
                    "webhook %s of job %s failed for good after %d attempts: %s",
                    work.id,
                    work.job_id,
                    attempt,
                    error,
                )
            else:
                state, next_at = PENDING, now + wait
                log.info(
                    "webhook %s of job %s: attempt %d failed (%s); next in %.1f s",
                    work.id,
                    work.job_id,
                    attempt,
                    error,
                    wait,
                )
        await self._store.call(
            self._store.record_attempt,
            work,
            self._owner,
            at=at,
            http_status=status,
            error=error,
            duration_ms=duration_ms,
            state=state,
            next_attempt_at=next_at,
        )
