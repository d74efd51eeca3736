"""The container health check (`newsbrief-server health`) follows the configured port and TLS:
it passes against the real server with plaintext, TLS and mTLS on a non-default port, and fails
when nothing listens or the server is draining."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsbrief.service.cli import main
from tests.conftest import RunningServer, make_settings
from tests.integration.test_tls import pki  # noqa: F401  (the module's certificate fixture)


def _health(monkeypatch: pytest.MonkeyPatch, port: int, **env: str) -> int:
    monkeypatch.setenv("NEWSBRIEF_PORT", str(port))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return main(["health", "--timeout", "5"])


def test_plaintext_on_the_configured_port(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with RunningServer(make_settings()) as running:
        assert _health(monkeypatch, running.port) == 0
        assert f"127.0.0.1:{running.port}: SERVING" in capsys.readouterr().out
        running.call(running.app.health.enter_graceful_shutdown())
        assert _health(monkeypatch, running.port) == 1  # draining: NOT_SERVING
    assert _health(monkeypatch, running.port) == 1  # nothing listens


def test_tls_and_mtls(pki: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    tls = {"cert_file": pki / "server.pem", "key_file": pki / "server.key"}
    ca = str(pki / "ca.pem")
    with RunningServer(make_settings(tls=tls)) as running:
        assert _health(monkeypatch, running.port) == 1  # plaintext to a TLS port
        monkeypatch.setenv("NEWSBRIEF_TLS__CERT_FILE", str(tls["cert_file"]))
        monkeypatch.setenv("NEWSBRIEF_TLS__KEY_FILE", str(tls["key_file"]))
        assert _health(monkeypatch, running.port) == 0  # trusts cert_file itself
        assert _health(monkeypatch, running.port, NEWSBRIEF_TLS__HEALTH_CA_FILE=ca) == 0
        # the certificate is really checked: a name it does not hold fails
        assert _health(monkeypatch, running.port, NEWSBRIEF_TLS__HEALTH_SERVER_NAME="x.test") == 1
    monkeypatch.delenv("NEWSBRIEF_TLS__HEALTH_CA_FILE")
    monkeypatch.delenv("NEWSBRIEF_TLS__HEALTH_SERVER_NAME")
    with RunningServer(make_settings(tls={**tls, "client_ca_file": ca})) as running:
        # mTLS: the check trusts the client CA and presents the server's own pair
        assert _health(monkeypatch, running.port, NEWSBRIEF_TLS__CLIENT_CA_FILE=ca) == 0
