"""The jobs suite's fixtures: the database (SQLite file, or a PostgreSQL server the suite starts
itself with initdb/pg_ctl on a temporary directory), a webhook receiver on 127.0.0.1, and
server processes that share the database.

The PostgreSQL tests are skipped, with the reason, where no PostgreSQL server binaries are
installed (``.ci/run`` installs Debian's ``postgresql``)."""

from __future__ import annotations

import contextlib
import glob
import http.server
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from newsbrief.client import Client
from newsbrief.client.types import Job
from tests.harness.server import ServerProcess, free_port, process_tree

SECRET = "test-webhook-secret"
POLL_S = 0.2


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    return Path(which).resolve().parent if which else None


class PostgresServer:
    """A throwaway PostgreSQL server (trust auth, loopback, fsync off) in a temporary dir."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="newsbrief-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as 'postgres'
            if shutil.which("runuser") is None:
                raise RuntimeError("running as root without runuser")
            self.user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            str(bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "--no-sync",
        )  # fmt: skip
        self._run(
            str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
            "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            "start",
        )  # fmt: skip

    def _run(self, *argv: str) -> None:
        subprocess.run(
            [*self.user, *argv], check=True, capture_output=True, timeout=120, cwd=self.dir
        )

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"jobs_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    try:
        server = PostgresServer(bindir)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        pytest.skip(f"cannot start PostgreSQL: {exc} {detail.decode(errors='replace')[:300]}")
    yield server
    server.stop()


def _database(request: pytest.FixtureRequest, kind: str = "") -> str:
    """A fresh database of ``kind`` (default: the fixture's parameter), "sqlite" or "postgresql"."""
    if (kind or request.param) == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='newsbrief-jobs-')}/jobs.sqlite3"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str:
    """A fresh jobs database URL: a SQLite file, or a new database on the suite's PostgreSQL."""
    return _database(request)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database(request: pytest.FixtureRequest) -> str:
    """As ``database``, shared by a module's tests (one server each)."""
    return _database(request)


@pytest.fixture
def pg_database(postgres: PostgresServer) -> str:
    return postgres.create_database()


# --- webhook receiver ------------------------------------------------------------------------


@dataclass
class Delivery:
    at: float
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def job_id(self) -> str:
        return str(json.loads(self.body)["job"]["id"])


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST; the first ``fail_first`` POSTs of
    each delivery id are answered 500."""

    fail_first: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def ok(self) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if 200 <= d.answered < 300]

    def wait(self, count: int, timeout: float) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.ok()) >= count:
                return self.ok()
            time.sleep(0.05)
        return self.ok()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k: v for k, v in self.headers.items()}
            delivery_id = headers.get("Newsbrief-Delivery", "")
            with state.lock:
                earlier = sum(
                    1
                    for d in state.deliveries
                    if d.headers.get("Newsbrief-Delivery") == delivery_id
                )
                code = 500 if earlier < state.fail_first else 200
                state.deliveries.append(Delivery(time.time(), headers, body, code))
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


# --- servers ---------------------------------------------------------------------------------


def job_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of a test server on ``url``: short leases and polls, webhooks to the
    loopback receiver with small backoffs, no HTTP port (several servers at once)."""
    return {
        "NEWSBRIEF_HTTP_PORT": "0",
        "NEWSBRIEF_GRACE_SECONDS": "5",
        "NEWSBRIEF_JOBS__URL": url,
        "NEWSBRIEF_JOBS__POLL_S": str(POLL_S),
        "NEWSBRIEF_JOBS__LEASE_S": "3",
        "NEWSBRIEF_JOBS__WEBHOOK__SECRET": SECRET,
        "NEWSBRIEF_JOBS__WEBHOOK__ALLOWED_HOSTS": "127.0.0.1",
        "NEWSBRIEF_JOBS__WEBHOOK__INITIAL_BACKOFF_S": "0.2",
        "NEWSBRIEF_JOBS__WEBHOOK__MAX_AGE_S": "60",
        **extra,
    }


def start_server(url: str, **extra: str) -> ServerProcess:
    return ServerProcess(env=job_env(url, **extra))


def kill_tree(server: ServerProcess) -> None:
    """SIGKILL the server and every process under it (its pipeline workers)."""
    server.kill_tree()


def stop(server: ServerProcess) -> None:
    """SIGTERM and wait; the log is kept for the test to read."""
    server.terminate(60)
    for pid in process_tree(server.proc.pid)[1:]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def article(i: int, prefix: str = "a") -> dict[str, Any]:
    """A short article, distinct per ``i`` (so no result comes from the cache)."""
    return {
        "text": (
            f"Story {prefix}{i}. The city council of Town {i} approved a new budget of "
            f"{100 + i} million dollars on Monday after a long debate. The mayor said the money "
            f"would repair {i + 3} bridges and build two schools. Opposition members said the "
            "plan came too late for residents who have waited years."
        ),
        "client_reference": f"{prefix}{i}",
        "source_language": "en",
    }


def wait_jobs(client: Client, ids: list[str], timeout: float) -> dict[str, Job]:
    """Poll until every job is finished (or the timeout); the last view of each."""
    deadline = time.monotonic() + timeout
    last: dict[str, Job] = {}
    pending = list(ids)
    while pending and time.monotonic() < deadline:
        still = []
        for job_id in pending:
            try:
                job = client.get_job(job_id, timeout=10)
            except Exception:
                still.append(job_id)
                continue
            last[job_id] = job
            if not job.done:
                still.append(job_id)
        pending = still
        if pending:
            time.sleep(0.2)
    return last


def finished_lines(*servers: ServerProcess) -> list[str]:
    """The 'job X: succeeded|failed' lines of the servers' logs: one per job completed."""
    import re

    pattern = re.compile(r"job (job_[0-9a-f]+): (succeeded|failed)\b")
    return [m.group(1) for s in servers for m in pattern.finditer(s.text())]


def article_lines(*servers: ServerProcess) -> list[tuple[str, int]]:
    """(job, index) of every article outcome committed, from the servers' logs."""
    import re

    pattern = re.compile(r"job (job_[0-9a-f]+) article (\d+): (?:ok|failed)")
    return [(m.group(1), int(m.group(2))) for s in servers for m in pattern.finditer(s.text())]
