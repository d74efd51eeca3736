"""``newsbrief-server health``: the container health check. It reads the same settings as the
server (environment, config file), so it follows the configured port and TLS: it dials the
server's own port on the loopback address and asks ``grpc.health.v1`` for the whole server."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from newsbrief.service.settings import Settings

ANY_ADDRESS = ("0.0.0.0", "[::]", "::", "")


def health_target(settings: Settings) -> str:
    """The address the server listens on, seen from inside its container."""
    host = settings.host
    if host in ANY_ADDRESS:
        host = "127.0.0.1"
    return f"{host}:{settings.port}"


def _channel(settings: Settings, target: str) -> grpc.Channel:
    tls = settings.tls
    if not (tls.cert_file and tls.key_file):
        return grpc.insecure_channel(target)
    ca = tls.health_ca_file or tls.client_ca_file or tls.cert_file
    client_pair: tuple[bytes | None, bytes | None] = (None, None)
    if tls.client_ca_file:  # mTLS: the server's own pair is the client certificate
        client_pair = (Path(tls.key_file).read_bytes(), Path(tls.cert_file).read_bytes())
    credentials = grpc.ssl_channel_credentials(
        root_certificates=Path(ca).read_bytes(),
        private_key=client_pair[0],
        certificate_chain=client_pair[1],
    )
    options = [("grpc.ssl_target_name_override", tls.health_server_name)]
    return grpc.secure_channel(target, credentials, options=options)


def check(settings: Settings, *, timeout: float, out: TextIO) -> int:
    """0 when the server says SERVING; 1 otherwise (not serving, unreachable, TLS refused)."""
    target = health_target(settings)
    try:
        with _channel(settings, target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            response = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
    except grpc.RpcError as exc:
        print(f"{target}: {exc.code().name}: {exc.details()}", file=out)
        return 1
    except OSError as exc:  # a certificate file that cannot be read
        print(f"{target}: {exc}", file=out)
        return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    print(f"{target}: {status}", file=out)
    return 0 if response.status == health_pb2.HealthCheckResponse.SERVING else 1
