"""TLS and mTLS from certificate files (made at test time with openssl), through the client."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from newsbrief.client import Client, NewsbriefError
from tests.conftest import RunningServer, make_settings

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
             "/CN=newsbrief test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)  # fmt: skip
    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
                 "-out", f"{name}.pem", cwd=d)  # fmt: skip
    return d


def test_tls_server_and_client(pki: Path) -> None:
    settings = make_settings(tls={"cert_file": pki / "server.pem", "key_file": pki / "server.key"})
    article = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
    with RunningServer(settings) as running:
        with Client(running.target, root_certificates=pki / "ca.pem") as c:
            assert c.health() == "SERVING"
            assert c.summarize(article).brief.summary
        with Client(running.target, retries=0, timeout=5) as plain, pytest.raises(NewsbriefError):
            plain.summarize(article)  # plaintext to a TLS port fails


def test_mtls_requires_a_client_certificate(pki: Path) -> None:
    settings = make_settings(
        tls={
            "cert_file": pki / "server.pem",
            "key_file": pki / "server.key",
            "client_ca_file": pki / "ca.pem",
        }
    )
    article = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
    with RunningServer(settings) as running:
        with Client(
            running.target,
            root_certificates=pki / "ca.pem",
            private_key=pki / "client.key",
            certificate_chain=pki / "client.pem",
        ) as c:
            assert c.summarize(article).brief.summary
        with (
            Client(
                running.target, root_certificates=pki / "ca.pem", retries=0, timeout=5
            ) as anonymous,
            pytest.raises(NewsbriefError),
        ):
            anonymous.summarize(article)
