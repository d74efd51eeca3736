"""The real server as a separate process (so a crash of the server is seen, not shared), and
small client programs run as processes of their own."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import EMPTY_HF_CACHE, REPO

FIXTURES = REPO / "tests" / "fixtures"
ARTICLE = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")


class ServerProcess:
    """``python -m newsbrief.service`` on 127.0.0.1:<free port>; its log goes to a file."""

    def __init__(self, **env: str) -> None:
        self.log = Path(tempfile.mkstemp(prefix="newsbrief-server-", suffix=".log")[1])
        full = {
            **os.environ,
            "NEWSBRIEF_HOST": "127.0.0.1",
            "NEWSBRIEF_PORT": "0",
            "NEWSBRIEF_HTTP_PORT": "0",  # off unless a test asks (-1 = any free port)
            "NEWSBRIEF_DRAIN_SECONDS": "0",
            "NEWSBRIEF_MODELS__CACHE_DIR": str(EMPTY_HF_CACHE),
            "NEWSBRIEF_MODELS__TRANSLATOR__PRESET": "none",
            "NEWSBRIEF_STATE_DIR": tempfile.mkdtemp(prefix="newsbrief-state-"),
            **env,
        }
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "newsbrief.service"],
                env=full,
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=out,
            )
        self.port = self._wait_for(r"listening on \S+:(\d+)", 60)
        self.target = f"127.0.0.1:{self.port}"
        self._wait_serving(60)

    def _wait_for(self, pattern: str, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.log.read_text(errors="replace"))
            if match:
                return int(match.group(1))
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}:\n{self.text()}")
            time.sleep(0.05)
        raise AssertionError(f"server did not start:\n{self.text()}")

    def _wait_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.health() == "SERVING":
                return
            time.sleep(0.05)
        raise AssertionError(f"server not SERVING:\n{self.text()}")

    def health(self, timeout: float = 5.0) -> str:
        with grpc.insecure_channel(self.target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                response = stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout)
            except grpc.RpcError as exc:
                return f"error {exc.code().name}"
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def rss_kib(self) -> int:
        """Resident memory of the server and of every process under it: its pipeline workers
        and their fork server (Linux /proc)."""
        return sum(_rss_kib(pid) for pid in _tree(self.proc.pid))

    def terminate(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def close(self) -> None:
        self.terminate()
        self.log.unlink(missing_ok=True)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def crashed(server: ServerProcess) -> str:
    """Why the server is not fine, or '' when it is alive and SERVING."""
    if not server.alive():
        return f"server died with {server.proc.returncode}:\n{server.text()[-3000:]}"
    health = server.health()
    return "" if health == "SERVING" else f"health is {health}"


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, by the parent ids in /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            children.setdefault(parent, []).append(int(entry.name))
    tree: list[int] = []
    todo = [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
