"""Start a server in its own process, wait (bounded) for SERVING, read its memory, stop it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from newsbrief.client import AsyncClient, NewsbriefError

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (a server's worker processes and their fork server)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces and ")"
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def proc_memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in KiB, each summed over the process and all its descendants
    (empty if it is gone): a server that runs work in child processes is charged for them. The
    summed peaks bound the tree's peak from above (the processes need not peak together)."""
    out: dict[str, int] = {}
    for member in _descendants(pid):
        try:
            with open(f"/proc/{member}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        key, value = line.split(":", 1)
                        out[key] = out.get(key, 0) + int(value.split()[0])
        except OSError:
            continue
    return out


class ServerProcess:
    """One server subprocess on 127.0.0.1:<free port>; its log goes to ``log_path``."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.port = free_port()
        self.env = {
            **os.environ,
            "NEWSBRIEF_HOST": "127.0.0.1",
            "NEWSBRIEF_PORT": str(self.port),
            "NEWSBRIEF_HTTP_PORT": "0",  # gRPC only: the benchmark measures gRPC
            "NEWSBRIEF_DRAIN_SECONDS": "0",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_VERBOSITY": "error",
            "TOKENIZERS_PARALLELISM": "false",
            **env,
        }
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.serving_s: float | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def spawn(self) -> subprocess.Popen[bytes]:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.started_at = time.monotonic()
            return subprocess.Popen(
                self.argv, env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
            )

    async def start(self, timeout_s: float = 180.0) -> float:
        """Spawn and wait until health says SERVING; returns seconds from spawn to SERVING."""
        self.proc = self.spawn()
        deadline = self.started_at + timeout_s
        async with AsyncClient(self.target, retries=0, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {self.proc.returncode}; see {self.log_path}"
                    )
                try:
                    if await client.health() == "SERVING":
                        self.serving_s = time.monotonic() - self.started_at
                        return self.serving_s
                except NewsbriefError:
                    pass
                await asyncio.sleep(0.05)
        self.stop()
        raise TimeoutError(f"{self.name} not SERVING after {timeout_s:.0f} s; see {self.log_path}")

    def memory_kb(self) -> dict[str, int]:
        return proc_memory_kb(self.proc.pid) if self.proc else {}

    def stop(self, timeout_s: float = 20.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def newsbrief_server_argv() -> list[str]:
    return [sys.executable, "-m", "newsbrief.service"]


def bench_server_argv(translator: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bench.serve", "--translator", translator, *extra]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def busy_cpu_s() -> float:
    """CPU seconds spent by the whole machine (all processes, all cores) since boot."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


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
    members = {m for pid in pids for m in _descendants(pid)}
    return sum(_cpu_ticks(m) for m in members) / CLOCK_TICKS


class ForeignLoad:
    """How much CPU *other* processes used during a measurement: the machine's busy CPU time
    minus that of the given processes (the benchmark's own), as a share of all cores' time."""

    def __init__(self, pids: list[int], children: bool = False) -> None:
        self.pids = pids
        self.children = children
        self._t0 = time.monotonic()
        self._busy0 = busy_cpu_s()
        self._ours0 = self._ours()

    def _ours(self) -> float:
        total = process_cpu_s(*self.pids)
        if self.children:
            import resource

            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            total += usage.ru_utime + usage.ru_stime
        return total

    def result(self) -> dict[str, float]:
        wall = time.monotonic() - self._t0
        ours = self._ours() - self._ours0
        foreign = max(busy_cpu_s() - self._busy0 - ours, 0.0)
        cores = os.cpu_count() or 1
        return {
            "bench_cpu_s": round(ours, 2),
            "foreign_cpu_s": round(foreign, 2),
            "foreign_share": round(foreign / (wall * cores), 3) if wall > 0 else 0.0,
        }
