"""A server as a process of its own, for the tests, the soak and the benchmark alike.

A test starts ``python -m newsbrief.service`` on 127.0.0.1 (a crash of the server is seen, not
shared) and blocks until it is SERVING::

    with ServerProcess(NEWSBRIEF_WORKERS="1") as server:   # capitals: environment variables
        ...server.target, server.log, server.health(), server.rss_kib()...

The benchmark names its program, port and log (kept), and starts it when it wants::

    server = ServerProcess(argv=[...], name="ct2", port=free_port(), log_path=logs / "ct2.log",
                           test_env=False, start=False, **env)
    serving_s = await server.start_async(timeout_s=600)

Also the process-tree helpers (memory, CPU, kill) both use, and a reader of a server's /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO = Path(__file__).resolve().parents[2]

#: A Hugging Face cache that holds nothing: test servers never pick up models a developer
#: downloaded (the default translator preset is then reported not installed, quickly).
EMPTY_HF_CACHE = Path(tempfile.gettempdir()) / "newsbrief-tests-empty-hf-cache"

LISTENING = r"listening on \S+:(\d+)"


class ServerFailed(AssertionError):
    """The server process exited, or did not become ready in time (its log's end attached)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def newsbrief_server_argv() -> list[str]:
    return [sys.executable, "-m", "newsbrief.service"]


def server_test_env() -> dict[str, str]:
    """What every test server runs with: no drain, no downloaded models, no translator, its own
    state folder (its jobs database)."""
    return {
        "NEWSBRIEF_HTTP_PORT": "0",  # off unless a test asks (-1 = any free port), not 8080
        "NEWSBRIEF_DRAIN_SECONDS": "0",
        "NEWSBRIEF_MODELS__CACHE_DIR": str(EMPTY_HF_CACHE),
        "NEWSBRIEF_MODELS__TRANSLATOR__PRESET": "none",
        "NEWSBRIEF_STATE_DIR": tempfile.mkdtemp(prefix="newsbrief-state-"),
    }


class ServerProcess:
    """A server program (``newsbrief.service`` unless ``argv``) on 127.0.0.1.

    ``port`` 0 (the default): the server picks a free one and the log's "listening on" line
    tells it. ``log_path`` None: a temporary log (stdout and stderr), deleted by :meth:`close`;
    a given one is kept. The environment: this process's, then the test servers' settings
    (:func:`server_test_env`) when ``test_env``, then ``env``, then the keyword arguments in
    capitals. ``start``: start now and block until SERVING (``ready_timeout_s``)."""

    def __init__(
        self,
        *,
        argv: Sequence[str] | None = None,
        name: str = "newsbrief",
        port: int = 0,
        log_path: Path | None = None,
        test_env: bool = True,
        start: bool = True,
        ready_timeout_s: float = 120.0,
        env: Mapping[str, str] | None = None,
        **variables: str,
    ) -> None:
        self.name = name
        self.argv = list(argv or newsbrief_server_argv())
        self.port = port
        self._keep_log = log_path is not None
        self.log = log_path or Path(tempfile.mkstemp(prefix="newsbrief-server-", suffix=".log")[1])
        self.env = {
            **os.environ,
            "NEWSBRIEF_HOST": "127.0.0.1",
            "NEWSBRIEF_PORT": str(port),
            **(server_test_env() if test_env else {}),
            **(env or {}),
            **variables,
        }
        self._proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.serving_s: float | None = None
        if start:
            self.start(ready_timeout_s)

    # --- start ---------------------------------------------------------------------------------

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        assert self._proc is not None, f"{self.name} was not started"
        return self._proc

    @property
    def log_path(self) -> Path:
        return self.log

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def spawn(self) -> subprocess.Popen[bytes]:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.started_at = time.monotonic()
            self._proc = subprocess.Popen(
                self.argv, env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT
            )
        return self._proc

    def start(self, timeout_s: float = 60.0) -> float:
        """Spawn and wait until ready (:meth:`wait_ready`); seconds from spawn to ready. A
        server that exits or is not ready in time is stopped and :class:`ServerFailed` raised."""
        self.spawn()
        try:
            self.wait_ready(self.started_at + timeout_s)
        except BaseException:
            self.stop()
            raise
        self.serving_s = time.monotonic() - self.started_at
        return self.serving_s

    async def start_async(self, timeout_s: float = 180.0) -> float:
        """:meth:`start` without blocking the event loop."""
        return await asyncio.to_thread(self.start, timeout_s)

    def wait_ready(self, deadline: float) -> None:
        """Until the port is known (the log's "listening on" line when it was 0) and gRPC health
        says SERVING. Programs that are not newsbrief servers override it."""
        if not self.port:
            self.port = self.wait_for(LISTENING, deadline)
        while time.monotonic() < deadline:
            self._check_running()
            if self.health(timeout=2.0) == "SERVING":
                return
            time.sleep(0.05)
        raise ServerFailed(f"{self.name} not SERVING in time:\n{self.text()[-3000:]}")

    def wait_for(self, pattern: str, deadline: float) -> int:
        """The first group of ``pattern``'s first match in the log (an int), once it is there."""
        while time.monotonic() < deadline:
            match = re.search(pattern, self.text())
            if match:
                return int(match.group(1))
            self._check_running()
            time.sleep(0.05)
        raise ServerFailed(
            f"{self.name}: no {pattern!r} in its log in time:\n{self.text()[-3000:]}"
        )

    def _check_running(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise ServerFailed(
                f"{self.name} exited with {self.proc.returncode} (log {self.log}):\n"
                f"{self.text()[-3000:]}"
            )

    # --- look --------------------------------------------------------------------------------

    def health(self, timeout: float = 5.0) -> str:
        with grpc.insecure_channel(self.target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                response = stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout)
            except grpc.RpcError as exc:
                return f"error {exc.code().name}"
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def rss_kib(self) -> int:
        """Resident memory of the server and of every process under it (its pipeline workers
        and their fork server)."""
        return self.memory_kb().get("VmRSS", 0)

    def memory_kb(self) -> dict[str, int]:
        return proc_memory_kb(self._proc.pid) if self._proc else {}

    # --- stop --------------------------------------------------------------------------------

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait ``timeout``, then SIGKILL; the exit code."""
        if self._proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def stop(self, timeout_s: float = 20.0) -> None:
        self.terminate(timeout_s)

    def kill_tree(self) -> None:
        """SIGKILL the server and every process under it (its pipeline workers)."""
        if self._proc is None:
            return
        kill_tree(self.proc.pid)
        self.proc.wait(10)

    def close(self) -> None:
        self.terminate()
        if not self._keep_log:
            self.log.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def crashed(server: ServerProcess) -> str:
    """Why the server is not fine, or '' when it is alive and SERVING."""
    if not server.alive():
        code = server._proc.returncode if server._proc else None
        return f"server died with {code}:\n{server.text()[-3000:]}"
    health = server.health()
    return "" if health == "SERVING" else f"health is {health}"


# --- process trees (Linux /proc) -------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants (a server's worker processes and their fork server)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])  # the name may hold ")"
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(entry))
    tree: list[int] = []
    todo = [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def kill_tree(root: int) -> None:
    """SIGKILL ``root`` and every process under it, the deepest first."""
    for pid in reversed(process_tree(root)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def proc_memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in KiB, each summed over the process and all its descendants
    (empty if it is gone): a server that runs work in child processes is charged for them. The
    summed peaks bound the tree's peak from above (the processes need not peak together)."""
    out: dict[str, int] = {}
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        key, value = line.split(":", 1)
                        out[key] = out.get(key, 0) + int(value.split()[0])
        except OSError:
            continue
    return out


def proc_pss_kb(pid: int) -> int:
    """Proportional set size (``Pss`` of ``/proc/PID/smaps_rollup``) in KiB, summed over the
    process and all its descendants (0 if it is gone): a page shared by n processes of the tree
    (a forked worker's pages it still shares with its fork server) counts 1/n in each, so the
    sum counts it once, where summed RSS counts it n times."""
    total = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/smaps_rollup", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except (OSError, ValueError):
            continue
    return total


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            rest = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(rest[11]) + int(rest[12])


def process_cpu_s(*pids: int) -> float:
    """User + system CPU seconds of the processes, their threads and their living descendants
    (a server's worker processes), each counted once; 0 for those gone."""
    members = {m for pid in pids for m in process_tree(pid)}
    return sum(_cpu_ticks(m) for m in members) / CLOCK_TICKS


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def metrics(port: int) -> Samples:
    """Every sample of the /metrics a server serves on 127.0.0.1:``port``, as
    {(name, labels): value} (one HTTP request, bounded at 10 s)."""
    # imported here: a test process that never reads /metrics must not load prometheus_client
    # (tests check that a server with metrics off imports none of it)
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        text = response.read().decode("utf-8")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def metric(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(value for (n, got), value in samples.items() if n == name and want <= got)
